import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { RelativeTimeWithDate } from "../../components/RelativeTime";
import { grantColumns } from "../../components/oauth/grantColumns";
import { ActionForm } from "./ActionForm";

type Grant = FunctionReturnType<typeof api.oauth.support.grantsOf>[number];

const REVOKED_BY: Record<NonNullable<Grant["revokedBy"]>, string> = {
  user: "by the customer",
  support: "by support",
  code_reuse: "code used twice",
  refresh_reuse: "refresh token reused",
  client: "by the instance",
  replaced: "reconnected",
};

/** Support's view of an account's connected Dex instances; revoking one is audit-logged with a reason. */
export function GrantsSupport({ userId }: { userId: Id<"users"> }) {
  const grants = useQuery(api.oauth.support.grantsOf, { userId });
  const revoke = useMutation(api.oauth.support.revoke);
  const [instanceId, setInstanceId] = useState("");
  const c = grantColumns<Grant>();
  const status: Column<Grant> = {
    header: "Status",
    cell: (g) =>
      g.revokedAt === null ? (
        "Connected"
      ) : (
        <span className="muted">
          Revoked {REVOKED_BY[g.revokedBy ?? "support"]}, <RelativeTimeWithDate at={g.revokedAt} />
        </span>
      ),
  };
  const live = (grants ?? []).filter((g) => g.revokedAt === null);

  return (
    <Card title="Connected instances" testId="grants-support">
      <DataTable
        columns={[c.instance, c.scopes, c.connected, c.lastUsed, c.lastIp, status]}
        rows={grants}
        dense
        loadingLabel="Loading instances…"
        empty={{ title: "No instances were ever connected" }}
        caption="Connected instances"
        rowClassName={(g) => (g.revokedAt !== null ? "row-muted" : undefined)}
      />
      {live.length > 0 && (
        <ActionForm
          legend="Revoke an instance's access"
          submitLabel="Revoke"
          danger
          reasonId="grant-revoke-reason"
          onSubmit={async (reason) => {
            const target = instanceId || live[0].instanceId;
            await revoke({ userId, instanceId: target, reason });
            return `${target} revoked.`;
          }}
        >
          <div className="field">
            <label htmlFor="grant-revoke-instance">Instance</label>
            <select id="grant-revoke-instance" value={instanceId || live[0].instanceId} onChange={(e) => setInstanceId(e.target.value)}>
              {live.map((g) => (
                <option key={g._id} value={g.instanceId}>
                  {g.instanceId}
                </option>
              ))}
            </select>
          </div>
        </ActionForm>
      )}
    </Card>
  );
}
