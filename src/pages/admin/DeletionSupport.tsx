import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { RelativeTime } from "../../components/RelativeTime";
import { ActionForm } from "./ActionForm";

type Deletion = NonNullable<FunctionReturnType<typeof api.privacy.support.forAccount>>;
type Step = Deletion["steps"][number];

const SOURCE: Record<Deletion["source"], string> = { user: "the customer (Settings)", support: "support", clerk: "Clerk (user deleted)" };
const STATUS: Record<Step["status"], string> = { pending: "Pending", running: "Running", done: "Done", failed: "Failed: waiting for support" };

/**
 * Account deletion on the support console (docs/runbooks/account-deletion.md): request it with a
 * reason (audit-logged), follow each step live, and re-run a step that failed after its retries.
 */
export function DeletionSupport({ userId, email }: { userId: Id<"users">; email: string }) {
  const deletion = useQuery(api.privacy.support.forAccount, { userId });
  const request = useMutation(api.privacy.support.requestDeletionFor);
  const retry = useMutation(api.privacy.support.retryStep);

  const columns: Column<Step>[] = [
    { header: "Step", cell: (s) => s.label },
    { header: "Status", cell: (s) => <span data-testid="deletion-step-status">{STATUS[s.status]}</span> },
    { header: "Attempts", cell: (s) => s.attempts },
    { header: "Started", cell: (s) => (s.startedAt === undefined ? "—" : <RelativeTime at={s.startedAt} />) },
    { header: "Note", cell: (s) => s.lastError ?? s.note ?? "" },
  ];
  const failed = deletion?.steps.find((s) => s.status === "failed");

  return (
    <Card title="Account deletion" testId="deletion-support">
      {deletion === undefined ? (
        <p className="muted">Loading…</p>
      ) : deletion === null ? (
        <ActionForm
          legend={`Delete ${email}'s account and personal data`}
          submitLabel="Delete account"
          danger
          reasonId="deletion-reason"
          onSubmit={async (reason) => {
            const r = await request({ userId, reason });
            return r.existing ? "A deletion was already running; it carries on." : "Deletion started: access stopped, the steps run below.";
          }}
        />
      ) : (
        <>
          <p data-testid="deletion-summary">
            Requested by {SOURCE[deletion.source]}
            {deletion.requestedBy !== null && deletion.source === "support" ? ` (${deletion.requestedBy})` : ""} <RelativeTime at={deletion.requestedAt} />
            {deletion.reason !== null ? `: “${deletion.reason}”` : ""}. Status: <strong>{deletion.status.replace("_", " ")}</strong>.
          </p>
          <DataTable columns={columns} rows={deletion.steps} rowKey={(s) => s.name} dense caption="Deletion steps" empty={{ title: "No steps" }} />
          {failed !== undefined && (
            <ActionForm
              legend={`Re-run "${failed.label}" once its cause is fixed`}
              submitLabel="Re-run step"
              reasonId="deletion-retry-reason"
              onSubmit={async (reason) => {
                await retry({ requestId: deletion._id, step: failed.name, reason });
                return "Step re-run.";
              }}
            />
          )}
        </>
      )}
    </Card>
  );
}
