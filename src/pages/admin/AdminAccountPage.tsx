import { useMutation, useQuery } from "convex/react";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useParams } from "react-router";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { Loading } from "../../components/Loading";
import { EmptyState } from "../../components/EmptyState";
import { PlanBadge } from "../../components/PlanBadge";
import { StateBadge } from "../../components/StateBadge";
import { KeyStatusBadge } from "../../components/KeyStatusBadge";
import { RelativeTime } from "../../components/RelativeTime";
import { ErrorNotice } from "../../components/ErrorNotice";
import { Badge } from "../../components/Badge";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { stateInfo } from "../../lib/accountState";
import { PLAN_IDS, planFor, type PlanId } from "../../lib/plans";
import { daysUntil, formatDate, formatInteger, formatMoney, plural } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { useViewer } from "../../viewer/ViewerContext";
import { effectiveKeyStatus } from "../../lib/apiTypes";

type AccountDetail = FunctionReturnType<typeof api.admin.account>;
type Role = AccountDetail["account"]["role"];

export function AdminAccountPage() {
  const { userId = "" } = useParams();
  return (
    <div className="page">
      <p className="breadcrumb">
        <Link to="/admin">← All accounts</Link>
      </p>
      {/* A bad or deleted id fails this one query; the way back stays on screen. */}
      <ErrorBoundary resetKey={userId}>
        <AccountLoader userId={userId} />
      </ErrorBoundary>
    </div>
  );
}

function AccountLoader({ userId }: { userId: string }) {
  // The id comes from the URL; the query's validator rejects anything that is not a users id.
  const detail = useQuery(api.admin.account, { userId: userId as Id<"users"> });
  return detail === undefined ? <Loading label="Loading account…" /> : <AccountView detail={detail} />;
}

function AccountView({ detail }: { detail: AccountDetail }) {
  const viewer = useViewer();
  const now = useNow();
  const { account } = detail;
  const info = stateInfo(account.state);
  return (
    <>
      <PageHeader
        title={account.email}
        description={
          <>
            {account.name ? `${account.name} · ` : ""}
            {account.role} · last seen <RelativeTime at={account.lastSeenAt} />
          </>
        }
        actions={
          <div className="badge-row">
            <PlanBadge plan={account.plan} testId="admin-plan" />
            <StateBadge state={account.state} testId="admin-state" />
          </div>
        }
      />

      <div className="grid grid-2 grid-top">
        <Card title="Account">
          <p className={`state-explanation tone-${info.tone}`}>{info.staffNote}</p>
          <dl className="details">
            <div>
              <dt>Plan</dt>
              <dd>{planFor(account.plan)?.name ?? account.plan}</dd>
            </div>
            {account.trialEndsAt !== undefined && account.state === "trial" && (
              <div>
                <dt>Trial ends</dt>
                <dd>
                  {formatDate(account.trialEndsAt)} ({plural(daysUntil(account.trialEndsAt, now), "day")} left)
                </dd>
              </div>
            )}
            {account.stateBeforeSuspension !== undefined && account.state === "suspended" && (
              <div>
                <dt>Unsuspend returns to</dt>
                <dd>{stateInfo(account.stateBeforeSuspension).label}</dd>
              </div>
            )}
          </dl>
        </Card>
        <Card title="Actions">
          <SetPlanForm userId={account._id} current={account.plan} />
          <SuspensionForm userId={account._id} suspended={account.state === "suspended"} />
          {viewer.role === "admin" && <SetRoleForm userId={account._id} current={account.role} />}
        </Card>
      </div>

      <Card title="API keys">
        {detail.keys.length === 0 ? (
          <EmptyState title="No API keys" />
        ) : (
          <div className="table-wrap">
            <table className="table">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Key</th>
                  <th scope="col">Created</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {detail.keys.map((k) => (
                  <tr key={k._id}>
                    <td>{k.name}</td>
                    <td>
                      <code>{k.prefix}…</code>
                    </td>
                    <td>
                      <RelativeTime at={k.createdAt} />
                    </td>
                    <td>{k.lastUsedAt ? <RelativeTime at={k.lastUsedAt} /> : <span className="muted">Never</span>}</td>
                    <td>
                      <KeyStatusBadge status={effectiveKeyStatus(k, now)} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title="Recent usage">
        {detail.usage.length === 0 ? (
          <EmptyState title="No requests yet" />
        ) : (
          <div className="table-wrap">
            <table className="table table-dense">
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Model</th>
                  <th scope="col" className="num">In</th>
                  <th scope="col" className="num">Out</th>
                  <th scope="col" className="num">Cost</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {detail.usage.map((u) => (
                  <tr key={u._id}>
                    <td>
                      <RelativeTime at={u.at} />
                    </td>
                    <td>
                      <code>{u.model}</code>
                    </td>
                    <td className="num">{formatInteger(u.tokensIn)}</td>
                    <td className="num">{formatInteger(u.tokensOut)}</td>
                    <td className="num">{formatMoney(u.costMicros)}</td>
                    <td>
                      <Badge tone={u.status === "ok" ? "success" : "warning"}>{u.status.replace(/_/g, " ")}</Badge>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Card>

      <Card title="Audit log">
        {detail.audit.length === 0 ? (
          <EmptyState title="Nothing recorded yet" />
        ) : (
          <ol className="audit" data-testid="audit-log">
            {detail.audit.map((a) => (
              <li key={a._id}>
                <div className="audit-line">
                  <code>{a.action}</code>
                  <span className="muted">by {a.actor}</span>
                  <span className="muted audit-time">
                    <RelativeTime at={a.at} />
                  </span>
                </div>
                {a.reason && <p className="audit-reason">“{a.reason}”</p>}
              </li>
            ))}
          </ol>
        )}
      </Card>
    </>
  );
}

/** A form whose submit runs one admin mutation and reports the outcome inline. */
function ActionForm({
  legend,
  submitLabel,
  danger = false,
  onSubmit,
  children,
  reason,
  setReason,
  reasonId,
}: {
  legend: string;
  submitLabel: string;
  danger?: boolean;
  onSubmit: () => Promise<string>;
  children?: ReactNode;
  reason: string;
  setReason: (r: string) => void;
  reasonId: string;
}) {
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);

  async function submit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    setDone(null);
    try {
      setDone(await onSubmit());
      setReason("");
    } catch (err) {
      setError(err);
    } finally {
      setPending(false);
    }
  }

  return (
    <form className="action-form" onSubmit={submit}>
      <fieldset disabled={pending}>
        <legend>{legend}</legend>
        <div className="action-fields">
          {children}
          <div className="field field-grow">
            <label htmlFor={reasonId}>Reason</label>
            <input
              id={reasonId}
              required
              value={reason}
              onChange={(e) => setReason(e.target.value)}
              placeholder="Shown in the audit log"
            />
          </div>
          <button type="submit" className={`button ${danger ? "button-danger-solid" : "button-primary"}`}>
            {pending ? "Saving…" : submitLabel}
          </button>
        </div>
      </fieldset>
      {error !== null && <ErrorNotice error={error} compact />}
      {done && (
        <p className="notice notice-success notice-compact" role="status">
          {done}
        </p>
      )}
    </form>
  );
}

function SetPlanForm({ userId, current }: { userId: Id<"users">; current: PlanId }) {
  const setPlan = useMutation(api.admin.setPlan);
  const [plan, setPlanChoice] = useState<PlanId>(current === "trial" ? "basic" : current);
  const [reason, setReason] = useState("");
  return (
    <ActionForm
      legend="Change plan"
      submitLabel="Set plan"
      reason={reason}
      setReason={setReason}
      reasonId="plan-reason"
      onSubmit={async () => {
        await setPlan({ userId, plan, reason: reason.trim() });
        return `Plan set to ${planFor(plan)?.name ?? plan}.`;
      }}
    >
      <div className="field">
        <label htmlFor="plan-choice">Plan</label>
        <select id="plan-choice" value={plan} onChange={(e) => setPlanChoice(e.target.value as PlanId)}>
          {PLAN_IDS.map((id) => (
            <option key={id} value={id}>
              {planFor(id)?.name ?? id}
              {id === current ? " (current)" : ""}
            </option>
          ))}
        </select>
      </div>
    </ActionForm>
  );
}

function SuspensionForm({ userId, suspended }: { userId: Id<"users">; suspended: boolean }) {
  const suspend = useMutation(api.admin.suspend);
  const unsuspend = useMutation(api.admin.unsuspend);
  const [reason, setReason] = useState("");
  return (
    <ActionForm
      legend={suspended ? "Lift the suspension" : "Suspend the account"}
      submitLabel={suspended ? "Unsuspend" : "Suspend"}
      danger={!suspended}
      reason={reason}
      setReason={setReason}
      reasonId="suspension-reason"
      onSubmit={async () => {
        if (suspended) {
          await unsuspend({ userId, reason: reason.trim() });
          return "Suspension lifted.";
        }
        await suspend({ userId, reason: reason.trim() });
        return "Account suspended. API calls are refused until it is lifted.";
      }}
    />
  );
}

const ROLES: Role[] = ["user", "support", "admin"];

function SetRoleForm({ userId, current }: { userId: Id<"users">; current: Role }) {
  const setRole = useMutation(api.admin.setRole);
  const [role, setRoleChoice] = useState<Role>(current);
  const [reason, setReason] = useState("");
  return (
    <ActionForm
      legend="Change role"
      submitLabel="Set role"
      reason={reason}
      setReason={setReason}
      reasonId="role-reason"
      onSubmit={async () => {
        await setRole({ userId, role, reason: reason.trim() });
        return `Role set to ${role}.`;
      }}
    >
      <div className="field">
        <label htmlFor="role-choice">Role</label>
        <select id="role-choice" value={role} onChange={(e) => setRoleChoice(e.target.value as Role)}>
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {r}
              {r === current ? " (current)" : ""}
            </option>
          ))}
        </select>
      </div>
    </ActionForm>
  );
}
