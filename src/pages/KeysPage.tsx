import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import type { ApiKeyRow, KeyEnvironment } from "../lib/apiTypes";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { DataTable, type Column } from "../components/DataTable";
import { keyColumns } from "../components/keyColumns";
import { TextField } from "../components/TextField";
import { Dialog } from "../components/Dialog";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { SecretReveal } from "../components/SecretReveal";
import { CredentialsCard } from "../components/CredentialsCard";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, formatRelative } from "../lib/format";
import { keyLines, type KeyLine } from "../lib/keyLines";
import { useNow } from "../lib/useNow";
import { useAsyncAction } from "../lib/useAsyncAction";

type Revealed =
  | { kind: "created"; name: string; secret: string; prefix: string }
  | { kind: "rotated"; name: string; secret: string; prefix: string; oldPrefix: string; graceEndsAt: number };

const GRACE_CHOICES = [
  { hours: 0, label: "Immediately" },
  { hours: 1, label: "In 1 hour" },
  { hours: 24, label: "In 24 hours" },
  { hours: 72, label: "In 3 days" },
  { hours: 168, label: "In 7 days" },
];

const environmentColumn: Column<KeyLine<ApiKeyRow>> = {
  header: "Environment",
  cell: ({ key }) => <span className={`env env-${key.environment}`}>{key.environment}</span>,
};

export function KeysPage() {
  const keys = useQuery(api.apiKeys.manage.list, {});
  const now = useNow(15_000);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyRow | null>(null);
  const [rotating, setRotating] = useState<ApiKeyRow | null>(null);
  const k = keyColumns(now);
  const actionsColumn: Column<KeyLine<ApiKeyRow>> = {
    header: "Actions",
    hideHeader: true,
    className: "cell-actions",
    cell: ({ key, status }) => (
      <>
        {status === "active" && (
          <button type="button" className="button button-small" onClick={() => setRotating(key)}>
            Rotate
          </button>
        )}
        {status !== "revoked" && (
          <button type="button" className="button button-small button-danger" onClick={() => setRevoking(key)}>
            Revoke
          </button>
        )}
      </>
    ),
  };

  return (
    <div className="page">
      <PageHeader
        title="API keys"
        description="Keys let your Dex instance call Poindexter. Each secret is shown once, when it is created."
      />

      <CreateKeyForm onCreated={setRevealed} />

      <Card title="Your keys">
        <DataTable
          columns={[k.name, k.prefix, environmentColumn, k.created, k.lastUsed, k.status, actionsColumn]}
          rows={keyLines(keys, now)}
          rowKey={({ key }) => key._id}
          loadingLabel="Loading keys…"
          empty={{
            title: "No API keys yet",
            body: "Create one above and paste it into your Dex instance's settings.",
          }}
          caption="Your API keys"
          testId="keys-table"
          rowTestId="key-row"
          rowClassName={({ status }) => (status === "revoked" ? "row-muted" : undefined)}
        />
      </Card>

      <RevokeDialog apiKey={revoking} onClose={() => setRevoking(null)} />
      <RotateDialog
        apiKey={rotating}
        onClose={() => setRotating(null)}
        onRotated={(r) => {
          setRotating(null);
          setRevealed(r);
        }}
      />
      <Dialog
        open={revealed !== null}
        title={revealed?.kind === "rotated" ? "Your new key" : "Your new API key"}
        onClose={() => setRevealed(null)}
        testId="secret-dialog"
        footer={
          <button type="button" className="button button-primary" onClick={() => setRevealed(null)}>
            I have copied it
          </button>
        }
      >
        {revealed && (
          <>
            <p>
              <strong>{revealed.name}</strong> <code>{revealed.prefix}…</code>
            </p>
            <SecretReveal secret={revealed.secret} />
            {revealed.kind === "rotated" && (
              <p className="muted" data-testid="rotation-grace">
                {revealed.graceEndsAt <= now ? (
                  <>
                    The old key <code>{revealed.oldPrefix}…</code> has stopped working.
                  </>
                ) : (
                  <>
                    The old key <code>{revealed.oldPrefix}…</code> keeps working until{" "}
                    <strong>{formatDateTime(revealed.graceEndsAt)}</strong> (
                    {formatRelative(revealed.graceEndsAt, now)}). Update your Dex instance before then.
                  </>
                )}
              </p>
            )}
          </>
        )}
      </Dialog>
      <ErrorBoundary>{/* Short-lived provider credentials (convex/credentials/) */}<CredentialsCard /></ErrorBoundary>
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (r: Revealed) => void }) {
  const create = useMutation(api.apiKeys.manage.create);
  const [name, setName] = useState("");
  const [environment, setEnvironment] = useState<KeyEnvironment>("live");
  const { pending, error, run } = useAsyncAction();

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    await run(async () => {
      const trimmed = name.trim();
      const result = await create({ name: trimmed, environment });
      onCreated({ kind: "created", name: trimmed, secret: result.secret, prefix: result.prefix });
      setName("");
    });
  }

  return (
    <Card title="Create a key">
      <form className="inline-form" onSubmit={onSubmit}>
        <TextField
          id="key-name"
          label="Name"
          name="name"
          required
          maxLength={100}
          value={name}
          onChange={setName}
          placeholder="Home server"
          grow
        />
        <div className="field">
          <label htmlFor="key-environment">Environment</label>
          <select
            id="key-environment"
            value={environment}
            onChange={(e) => setEnvironment(e.target.value as KeyEnvironment)}
          >
            <option value="live">Live</option>
            <option value="test">Test</option>
          </select>
        </div>
        <button type="submit" className="button button-primary" disabled={pending || name.trim() === ""}>
          {pending ? "Creating…" : "Create key"}
        </button>
      </form>
      {error !== null && <ErrorNotice error={error} compact />}
    </Card>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKeyRow | null; onClose: () => void }) {
  const revoke = useMutation(api.apiKeys.manage.revoke);
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title="Revoke this key?"
      confirmLabel="Revoke key"
      pendingLabel="Revoking…"
      tone="danger"
      onClose={onClose}
      onConfirm={async () => {
        if (!apiKey) return;
        await revoke({ keyId: apiKey._id });
        onClose();
      }}
    >
      {apiKey && (
        <p>
          <strong>{apiKey.name}</strong> (<code>{apiKey.prefix}…</code>) stops working immediately. Anything
          still using it gets 401 errors. This cannot be undone.
        </p>
      )}
    </ConfirmDialog>
  );
}

function RotateDialog({
  apiKey,
  onClose,
  onRotated,
}: {
  apiKey: ApiKeyRow | null;
  onClose: () => void;
  onRotated: (r: Revealed) => void;
}) {
  const rotate = useMutation(api.apiKeys.manage.rotate);
  const [graceHours, setGraceHours] = useState(24);
  return (
    <ConfirmDialog
      open={apiKey !== null}
      title="Rotate this key?"
      confirmLabel="Rotate key"
      pendingLabel="Rotating…"
      onClose={onClose}
      onConfirm={async () => {
        if (!apiKey) return;
        const result = await rotate({ keyId: apiKey._id, graceHours });
        onRotated({
          kind: "rotated",
          name: apiKey.name,
          secret: result.secret,
          prefix: result.prefix,
          oldPrefix: apiKey.prefix,
          graceEndsAt: result.graceEndsAt,
        });
      }}
    >
      {apiKey && (
        <>
          <p>
            A new secret replaces <strong>{apiKey.name}</strong> (<code>{apiKey.prefix}…</code>). The old one keeps
            working for a grace period so you can update your Dex instance without downtime.
          </p>
          <div className="field">
            <label htmlFor="rotate-grace">Old key stops working</label>
            <select id="rotate-grace" value={graceHours} onChange={(e) => setGraceHours(Number(e.target.value))}>
              {GRACE_CHOICES.map((c) => (
                <option key={c.hours} value={c.hours}>
                  {c.label}
                </option>
              ))}
            </select>
          </div>
        </>
      )}
    </ConfirmDialog>
  );
}
