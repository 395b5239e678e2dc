import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { PROVIDER_LABELS, SCOPE_LABELS, worksUntil } from "../lib/credentials";
import { formatDateTime, formatRelative } from "../lib/format";
import { useAsyncAction } from "../lib/useAsyncAction";
import { useNow } from "../lib/useNow";
import { Card } from "./Card";
import { credentialColumns } from "./credentialColumns";
import { ConfirmDialog } from "./ConfirmDialog";
import { DataTable, type Column } from "./DataTable";
import { ErrorNotice } from "./ErrorNotice";
import { SecretReveal } from "./SecretReveal";

type Listing = FunctionReturnType<typeof api.credentials.mine.list>;
type Credential = Listing["credentials"][number];
type Provider = Credential["provider"];
type Scope = Credential["scopes"][number];

/**
 * The account's short-lived provider credentials: one per provider, scoped to some of its
 * endpoints, rotated by the service before they expire (the holder fetches the new one from
 * POST /api/provisioning/token). Issuing here rotates the current one; its token is shown once.
 */
export function CredentialsCard() {
  const listing = useQuery(api.credentials.mine.list, {});
  const issue = useMutation(api.credentials.mine.issue);
  const revoke = useMutation(api.credentials.mine.revoke);
  const now = useNow(15_000);
  const [provider, setProvider] = useState<Provider>("openai");
  const [scopes, setScopes] = useState<Scope[]>([]);
  const [revealed, setRevealed] = useState<{ token: string; provider: Provider } | null>(null);
  const [revoking, setRevoking] = useState<Credential | null>(null);
  const { pending, error, run } = useAsyncAction();

  const offered = listing?.providers.find((p) => p.provider === provider)?.scopes ?? [];
  const cc = credentialColumns<Credential>("credential-status");
  const columns: Column<Credential>[] = [
    cc.provider,
    cc.scopes,
    cc.status,
    { header: "Issued", cell: (c) => <span title={formatDateTime(c.issuedAt)}>{formatRelative(c.issuedAt, now)}</span> },
    {
      header: "Works until",
      cell: (c) => <span title={formatDateTime(worksUntil(c))}>{formatRelative(worksUntil(c), now)}</span>,
    },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (c) => (
        <button type="button" className="button button-small button-danger" onClick={() => setRevoking(c)}>
          Revoke
        </button>
      ),
    },
  ];

  async function onIssue(e: FormEvent) {
    e.preventDefault();
    await run(async () => {
      const issued = await issue({ provider, ...(scopes.length > 0 ? { scopes } : {}) });
      setRevealed({ token: issued.token, provider });
      setScopes([]);
    });
  }

  return (
    <Card title="Provider credentials" testId="credentials-card">
      <p className="muted">
        Short-lived credentials for one provider's models, for tools that cannot hold an API key for long.
        They expire after a day and rotate on their own: answers carry <code>x-poindexter-credential-refresh</code>{" "}
        when a newer one should be fetched from <code>POST /api/provisioning/token</code>.
      </p>
      <DataTable
        columns={columns}
        rows={listing?.credentials}
        rowKey={(c) => c.id}
        dense
        caption="Provider credentials"
        loadingLabel="Loading credentials…"
        rowTestId="credential-row"
        empty={{ title: "No credentials yet", body: "Issue one below for the provider your tool calls." }}
      />
      <form className="inline-form" style={{ marginTop: "1rem" }} onSubmit={onIssue} aria-label="Issue a credential">
        <div className="field">
          <label htmlFor="credential-provider">Provider</label>
          <select
            id="credential-provider"
            value={provider}
            onChange={(e) => {
              setProvider(e.target.value as Provider);
              setScopes([]);
            }}
          >
            {(listing?.providers ?? []).map((p) => (
              <option key={p.provider} value={p.provider}>
                {PROVIDER_LABELS[p.provider] ?? p.provider}
              </option>
            ))}
          </select>
        </div>
        <div className="field field-grow" role="group" aria-labelledby="credential-scopes-label">
          <span id="credential-scopes-label" style={{ fontSize: "0.85rem", fontWeight: 600 }}>Scopes (none ticked: all)</span>
          <div style={{ display: "flex", flexWrap: "wrap", gap: "1rem", minHeight: 38, alignItems: "center" }}>
            {offered.map((s) => (
              <label key={s} style={{ display: "inline-flex", alignItems: "center", gap: "0.35rem", fontWeight: 400 }}>
                <input
                  type="checkbox"
                  style={{ minHeight: 0 }}
                  checked={scopes.includes(s)}
                  onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
                />
                {SCOPE_LABELS[s] ?? s}
              </label>
            ))}
          </div>
        </div>
        <button type="submit" className="button button-primary" disabled={pending || listing === undefined} data-testid="credential-issue">
          {pending ? "Issuing…" : "Issue credential"}
        </button>
      </form>
      {error !== null && <ErrorNotice error={error} compact />}
      {revealed && (
        <div data-testid="credential-revealed">
          <p>
            New {PROVIDER_LABELS[revealed.provider]} credential (any earlier one keeps working for the overlap, then stops):
          </p>
          <SecretReveal secret={revealed.token} />
          <button type="button" className="button button-small" onClick={() => setRevealed(null)}>
            Done
          </button>
        </div>
      )}
      <ConfirmDialog
        open={revoking !== null}
        title="Revoke this credential?"
        confirmLabel="Revoke"
        pendingLabel="Revoking…"
        tone="danger"
        testId="credential-revoke-dialog"
        onClose={() => setRevoking(null)}
        onConfirm={async () => {
          if (revoking) await revoke({ credentialId: revoking.id });
          setRevoking(null);
        }}
      >
        <p>Requests with it fail at once. Tools using it need a new one from POST /api/provisioning/token.</p>
      </ConfirmDialog>
    </Card>
  );
}
