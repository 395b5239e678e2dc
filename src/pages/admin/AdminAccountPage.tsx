import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
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
import { Badge } from "../../components/Badge";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { stateInfo } from "../../lib/accountState";
import { PLAN_IDS, planFor, type PlanId } from "../../lib/plans";
import { daysUntil, formatDate, formatInteger, formatMoney, plural } from "../../lib/format";
import { useNow } from "../../lib/useNow";
import { useViewer } from "../../viewer/ViewerContext";
import { effectiveKeyStatus } from "../../lib/apiTypes";
import { ActionForm } from "./ActionForm";
import { ChoiceField } from "./ChoiceField";

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

function SetPlanForm({ userId, current }: { userId: Id<"users">; current: PlanId }) {
  const setPlan = useMutation(api.admin.setPlan);
  const [plan, setPlanChoice] = useState<PlanId>(current === "trial" ? "basic" : current);
  return (
    <ActionForm
      legend="Change plan"
      submitLabel="Set plan"
      reasonId="plan-reason"
      onSubmit={async (reason) => {
        await setPlan({ userId, plan, reason });
        return `Plan set to ${planName(plan)}.`;
      }}
    >
      <ChoiceField
        id="plan-choice"
        label="Plan"
        choices={PLAN_IDS}
        current={current}
        value={plan}
        onChange={setPlanChoice}
        describe={planName}
      />
    </ActionForm>
  );
}

function planName(id: PlanId): string {
  return planFor(id)?.name ?? id;
}

function SuspensionForm({ userId, suspended }: { userId: Id<"users">; suspended: boolean }) {
  const suspend = useMutation(api.admin.suspend);
  const unsuspend = useMutation(api.admin.unsuspend);
  return (
    <ActionForm
      legend={suspended ? "Lift the suspension" : "Suspend the account"}
      submitLabel={suspended ? "Unsuspend" : "Suspend"}
      danger={!suspended}
      reasonId="suspension-reason"
      onSubmit={async (reason) => {
        if (suspended) {
          await unsuspend({ userId, reason });
          return "Suspension lifted.";
        }
        await suspend({ userId, reason });
        return "Account suspended. API calls are refused until it is lifted.";
      }}
    />
  );
}

const ROLES: readonly Role[] = ["user", "support", "admin"];

function SetRoleForm({ userId, current }: { userId: Id<"users">; current: Role }) {
  const setRole = useMutation(api.admin.setRole);
  const [role, setRoleChoice] = useState<Role>(current);
  return (
    <ActionForm
      legend="Change role"
      submitLabel="Set role"
      reasonId="role-reason"
      onSubmit={async (reason) => {
        await setRole({ userId, role, reason });
        return `Role set to ${role}.`;
      }}
    >
      <ChoiceField id="role-choice" label="Role" choices={ROLES} current={current} value={role} onChange={setRoleChoice} />
    </ActionForm>
  );
}
