import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { EmptyState } from "../../components/EmptyState";
import { RelativeTime } from "../../components/RelativeTime";
import { SecretReveal } from "../../components/SecretReveal";
import { TextField } from "../../components/TextField";
import { useViewer } from "../../viewer/ViewerContext";
import { ActionForm } from "./ActionForm";

type AdminKey = FunctionReturnType<typeof api.admin.apiKeys.list>[number];

/**
 * Keys for the admin HTTP API (`/v1/admin/*`, convex/admin/README.md). Admins only: a key reads
 * every account and can re-provision identities. The secret is shown once; creating and revoking
 * need a reason for the audit log.
 */
export function AdminApiKeysPage() {
  const viewer = useViewer();
  return (
    <div className="page">
      <PageHeader
        title="Admin API keys"
        description="Keys for scripts that call the admin API: GET /v1/admin/users, GET /v1/admin/usage, POST /v1/admin/provision/{userId}."
      />
      {viewer.role !== "admin" ? (
        <Card>
          <EmptyState title="Admins only">Admin API keys can read every account; ask an admin to make one for you.</EmptyState>
        </Card>
      ) : (
        <AdminKeys />
      )}
    </div>
  );
}

function AdminKeys() {
  const keys = useQuery(api.admin.apiKeys.list, {});
  const create = useMutation(api.admin.apiKeys.create);
  const [name, setName] = useState("");
  const [secret, setSecret] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<AdminKey | null>(null);
  const columns: readonly Column<AdminKey>[] = [
    { header: "Name", cell: (k) => k.name },
    { header: "Key", cell: (k) => <code>{k.prefix}…</code> },
    { header: "Created", cell: (k) => <>
      <RelativeTime at={k.createdAt} /> <span className="cell-sub muted">by {k.createdByLabel}</span>
    </> },
    { header: "Last used", cell: (k) => (k.lastUsedAt ? <RelativeTime at={k.lastUsedAt} /> : <span className="muted">Never</span>) },
    {
      header: "Status",
      cell: (k) =>
        k.revokedAt ? (
          <span className="muted">
            Revoked <RelativeTime at={k.revokedAt} /> by {k.revokedByLabel}
          </span>
        ) : (
          "Active"
        ),
    },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (k) =>
        k.revokedAt ? null : (
          <button type="button" className="button button-small button-danger" onClick={() => setRevoking(k)} aria-label={`Revoke ${k.name}`}>
            Revoke…
          </button>
        ),
    },
  ];
  return (
    <>
      <Card title="New admin API key">
        <ActionForm
          legend="Create a key"
          submitLabel="Create key"
          reasonId="admin-key-reason"
          onSubmit={async (reason) => {
            const made = await create({ name, reason });
            setSecret(made.secret);
            setName("");
            return `Created ${made.prefix}…`;
          }}
        >
          <TextField id="admin-key-name" label="Name" value={name} onChange={setName} placeholder="nightly export" required maxLength={64} />
        </ActionForm>
        {secret !== null && (
          <div data-testid="admin-key-secret">
            <SecretReveal secret={secret} />
            <button type="button" className="button button-small" onClick={() => setSecret(null)}>
              I have stored it
            </button>
          </div>
        )}
      </Card>
      <Card title="Keys">
        <DataTable
          columns={columns}
          rows={keys}
          loadingLabel="Loading admin keys…"
          empty={{ title: "No admin API keys yet", body: "Create one above for a script that calls the admin API." }}
          caption="Admin API keys, newest first"
          testId="admin-keys"
          rowClassName={(k) => (k.revokedAt ? "row-muted" : undefined)}
        />
        {revoking !== null && <RevokeAdminKey key={revoking._id} target={revoking} onClose={() => setRevoking(null)} />}
      </Card>
    </>
  );
}

function RevokeAdminKey({ target, onClose }: { target: { _id: Id<"adminApiKeys">; name: string; prefix: string }; onClose: () => void }) {
  const revoke = useMutation(api.admin.apiKeys.revoke);
  return (
    <div className="reapply-box">
      <ActionForm
        legend={`Revoke ${target.name} (${target.prefix}…)`}
        submitLabel="Revoke"
        danger
        reasonId="admin-key-revoke-reason"
        onSubmit={async (reason) => {
          await revoke({ keyId: target._id, reason });
          return "Revoked: requests with this key now get 403 admin_key_revoked.";
        }}
      />
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
