import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent } from "react";
import { api } from "../../convex/_generated/api";
import { effectiveKeyStatus, type ApiKeyRow, type KeyEnvironment } from "../lib/apiTypes";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { Loading } from "../components/Loading";
import { EmptyState } from "../components/EmptyState";
import { KeyStatusBadge } from "../components/KeyStatusBadge";
import { RelativeTime } from "../components/RelativeTime";
import { Dialog } from "../components/Dialog";
import { ConfirmDialog } from "../components/ConfirmDialog";
import { SecretReveal } from "../components/SecretReveal";
import { ErrorNotice } from "../components/ErrorNotice";
import { formatDateTime, formatRelative } from "../lib/format";
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

export function KeysPage() {
  const keys = useQuery(api.apiKeys.list, {});
  const now = useNow(15_000);
  const [revealed, setRevealed] = useState<Revealed | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyRow | null>(null);
  const [rotating, setRotating] = useState<ApiKeyRow | null>(null);

  return (
    <div className="page">
      <PageHeader
        title="API keys"
        description="Keys let your Dex instance call Poindexter. Each secret is shown once, when it is created."
      />

      <CreateKeyForm onCreated={setRevealed} />

      <Card title="Your keys">
        {keys === undefined ? (
          <Loading label="Loading keys…" />
        ) : keys.length === 0 ? (
          <EmptyState title="No API keys yet">
            Create one above and paste it into your Dex instance&apos;s settings.
          </EmptyState>
        ) : (
          <div className="table-wrap">
            <table className="table" data-testid="keys-table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Environment</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {keys.map((key) => (
                  <KeyRow key={key._id} apiKey={key} onRevoke={setRevoking} onRotate={setRotating} />
                ))}
              </tbody>
            </table>
          </div>
        )}
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
    </div>
  );
}

function CreateKeyForm({ onCreated }: { onCreated: (r: Revealed) => void }) {
  const create = useMutation(api.apiKeys.create);
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
        <div className="field field-grow">
          <label htmlFor="key-name">Name</label>
          <input
            id="key-name"
            name="name"
            required
            maxLength={100}
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="Home server"
          />
        </div>
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

function KeyRow({
  apiKey,
  onRevoke,
  onRotate,
}: {
  apiKey: ApiKeyRow;
  onRevoke: (k: ApiKeyRow) => void;
  onRotate: (k: ApiKeyRow) => void;
}) {
  const now = useNow();
  const status = effectiveKeyStatus(apiKey, now);
  const stoppedAt = apiKey.revokedAt ?? apiKey.graceEndsAt;
  return (
    <tr data-testid="key-row" className={status === "revoked" ? "row-muted" : undefined}>
      <td>{apiKey.name}</td>
      <td>
        <code>{apiKey.prefix}…</code>
      </td>
      <td>
        <span className={`env env-${apiKey.environment}`}>{apiKey.environment}</span>
      </td>
      <td>
        <RelativeTime at={apiKey.createdAt} />
      </td>
      <td>
        {apiKey.lastUsedAt === undefined ? (
          <span className="muted">Never</span>
        ) : (
          <>
            <RelativeTime at={apiKey.lastUsedAt} />
            {apiKey.lastUsedIp && <span className="muted cell-sub">from {apiKey.lastUsedIp}</span>}
          </>
        )}
      </td>
      <td>
        <KeyStatusBadge status={status} />
        {status === "grace" && apiKey.graceEndsAt !== undefined && (
          <span className="muted cell-sub" title={formatDateTime(apiKey.graceEndsAt)}>
            stops {formatRelative(apiKey.graceEndsAt, now)}
          </span>
        )}
        {status === "revoked" && stoppedAt !== undefined && (
          <span className="muted cell-sub" title={formatDateTime(stoppedAt)}>
            {formatRelative(stoppedAt, now)}
          </span>
        )}
      </td>
      <td className="cell-actions">
        {status === "active" && (
          <button type="button" className="button button-small" onClick={() => onRotate(apiKey)}>
            Rotate
          </button>
        )}
        {status !== "revoked" && (
          <button type="button" className="button button-small button-danger" onClick={() => onRevoke(apiKey)}>
            Revoke
          </button>
        )}
      </td>
    </tr>
  );
}

function RevokeDialog({ apiKey, onClose }: { apiKey: ApiKeyRow | null; onClose: () => void }) {
  const revoke = useMutation(api.apiKeys.revoke);
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
  const rotate = useMutation(api.apiKeys.rotate);
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
