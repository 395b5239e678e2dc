import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card } from "../../components/Card";
import { credentialColumns } from "../../components/credentialColumns";
import { DataTable, type Column } from "../../components/DataTable";
import { RelativeTimeWithDate } from "../../components/RelativeTime";
import { CREDENTIAL_STATUS, PROVIDER_LABELS, worksUntil } from "../../lib/credentials";
import { useNow } from "../../lib/useNow";
import { ActionForm } from "./ActionForm";
import { SelectField } from "./SelectField";

type Credential = FunctionReturnType<typeof api.credentials.support.credentialsOf>["credentials"][number];

const label = (c: Credential) =>
  `${PROVIDER_LABELS[c.provider] ?? c.provider}, issued ${new Date(c.issuedAt).toLocaleString()} (${CREDENTIAL_STATUS[c.status].label.toLowerCase()})`;

/**
 * Support's view of an account's short-lived provider credentials and browser sessions: revoke
 * one at once, force a rotation (the holder gets the overlap to switch), or end every browser
 * session. Each action needs a reason, written to the audit log with it.
 */
export function CredentialsSupport({ userId }: { userId: Id<"users"> }) {
  const data = useQuery(api.credentials.support.credentialsOf, { userId });
  const revoke = useMutation(api.credentials.support.revoke);
  const rotate = useMutation(api.credentials.support.rotate);
  const revokeSessions = useMutation(api.credentials.support.revokeSessions);
  const now = useNow(15_000);
  const [revokeId, setRevokeId] = useState("");
  const [rotateId, setRotateId] = useState("");

  const cc = credentialColumns<Credential>("support-credential-status");
  const columns: Column<Credential>[] = [
    cc.provider,
    cc.scopes,
    cc.status,
    { header: "Issued", cell: (c) => <RelativeTimeWithDate at={c.issuedAt} /> },
    {
      header: "Works until",
      cell: (c) => (c.status === "revoked" ? <span className="muted">—</span> : <RelativeTimeWithDate at={worksUntil(c)} />),
    },
  ];
  const live = (data?.credentials ?? []).filter((c) => c.status !== "revoked");
  const active = live.filter((c) => c.status === "active");
  const labels = new Map(live.map((c) => [c.id as string, label(c)]));
  const liveSessions = (data?.sessionExpiries ?? []).filter((at) => at > now).length;

  return (
    <Card title="Provider credentials and sessions" testId="credentials-support">
      <DataTable
        columns={columns}
        rows={data?.credentials}
        rowKey={(c) => c.id}
        dense
        caption="Provider credentials"
        loadingLabel="Loading credentials…"
        rowTestId="support-credential-row"
        rowClassName={(c) => (c.status === "revoked" ? "row-muted" : undefined)}
        empty={{ title: "No provider credentials were ever issued" }}
      />
      {live.length > 0 && (
        <ActionForm
          legend="Revoke a credential now"
          submitLabel="Revoke"
          danger
          reasonId="credential-revoke-reason"
          onSubmit={async (reason) => {
            const target = live.find((c) => c.id === revokeId) ?? live[0];
            await revoke({ userId, credentialId: target.id, reason });
            setRevokeId("");
            return `${PROVIDER_LABELS[target.provider]} credential revoked.`;
          }}
        >
          <SelectField id="credential-revoke-target" label="Credential" choices={live.map((c) => c.id)} value={revokeId || live[0].id} onChange={setRevokeId} describe={(id) => labels.get(id) ?? id} />
        </ActionForm>
      )}
      {active.length > 0 && (
        <ActionForm
          legend="Force a rotation (the holder has the overlap to fetch the new one)"
          submitLabel="Rotate"
          reasonId="credential-rotate-reason"
          onSubmit={async (reason) => {
            const target = active.find((c) => c.id === rotateId) ?? active[0];
            await rotate({ userId, credentialId: target.id, reason });
            setRotateId("");
            return `${PROVIDER_LABELS[target.provider]} credential is rotating.`;
          }}
        >
          <SelectField id="credential-rotate-target" label="Credential" choices={active.map((c) => c.id)} value={rotateId || active[0].id} onChange={setRotateId} describe={(id) => labels.get(id) ?? id} />
        </ActionForm>
      )}
      <p className="muted" data-testid="support-live-sessions">
        {data === undefined ? "Loading sessions…" : `${liveSessions} live browser session token${liveSessions === 1 ? "" : "s"}.`}
      </p>
      {liveSessions > 0 && (
        <ActionForm
          legend="End every browser session (the dashboard fetches a new token if still signed in)"
          submitLabel="End sessions"
          danger
          reasonId="session-revoke-reason"
          onSubmit={async (reason) => {
            const ended = await revokeSessions({ userId, reason });
            return `${ended} session token${ended === 1 ? "" : "s"} ended.`;
          }}
        />
      )}
    </Card>
  );
}
