import { useMutation, useQuery } from "convex/react";
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
import { RelativeTime } from "../../components/RelativeTime";
import { DataTable } from "../../components/DataTable";
import { keyColumns } from "../../components/keyColumns";
import { USAGE_COLUMNS } from "../../components/usageColumns";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { stateInfo } from "../../lib/accountState";
import { PLAN_IDS, planFor, type PlanId } from "../../lib/plans";
import { daysUntil, formatDate, plural } from "../../lib/format";
import { keyLines } from "../../lib/keyLines";
import { useNow } from "../../lib/useNow";
import { useViewer } from "../../viewer/ViewerContext";
import { ActionForm, ChoiceActionForm } from "./ActionForm";
import { SignupHistory } from "./SignupHistory";
import { BillingSupport } from "./BillingSupport";
import { GrantsSupport } from "./GrantsSupport";
import { CredentialsSupport } from "./CredentialsSupport";
import { IdentitySupport } from "./IdentitySupport";
import { RefundSupport } from "./RefundSupport";
import { KeyActions } from "./KeyActions";
import { DeletionSupport } from "./DeletionSupport";

type AccountDetail = FunctionReturnType<typeof api.admin.accounts.get>;
type Role = AccountDetail["account"]["role"];

const { when, model, tokensIn, tokensOut, cost, status } = USAGE_COLUMNS;
const usageColumns = [when, model, tokensIn, tokensOut, cost, status];

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
  const detail = useQuery(api.admin.accounts.get, { userId: userId as Id<"users"> });
  return detail === undefined ? <Loading label="Loading account…" /> : <AccountView detail={detail} />;
}

function AccountView({ detail }: { detail: AccountDetail }) {
  const viewer = useViewer();
  const now = useNow();
  const { account } = detail;
  const info = stateInfo(account.state);
  const k = keyColumns(now);
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

      <ErrorBoundary>
        <BillingSupport userId={account._id} email={account.email} />
      </ErrorBoundary>
      <ErrorBoundary>{/* Refunds through the billing provider */}<RefundSupport userId={account._id} /></ErrorBoundary>
      <ErrorBoundary>{/* Connected Dex instances */}<GrantsSupport userId={account._id} /></ErrorBoundary>
      <ErrorBoundary>{/* Provider credentials and browser sessions */}<CredentialsSupport userId={account._id} /></ErrorBoundary>

      <ErrorBoundary>
        <IdentitySupport userId={account._id} email={account.email} />
      </ErrorBoundary>

      <Card title="API keys">
        <DataTable
          columns={[k.name, k.prefix, k.created, k.lastUsed, k.status]}
          rows={keyLines(detail.keys, now)}
          rowKey={({ key }) => key._id}
          empty={{ title: "No API keys" }}
          caption={`API keys of ${account.email}`}
          rowClassName={({ status }) => (status === "revoked" ? "row-muted" : undefined)}
        />
      </Card>
      <ErrorBoundary>{/* Revoke or rotate a key, with a reason */}<KeyActions userId={account._id} /></ErrorBoundary>

      <Card title="Recent usage">
        <DataTable
          columns={usageColumns}
          rows={detail.usage}
          empty={{ title: "No requests yet" }}
          caption={`Most recent requests of ${account.email}, newest first`}
          dense
        />
      </Card>

      <ErrorBoundary>
        <SignupHistory userId={account._id} email={account.email} />
      </ErrorBoundary>
      <ErrorBoundary>{/* Account deletion (privacy/) */}<DeletionSupport userId={account._id} email={account.email} /></ErrorBoundary>

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
  const setPlan = useMutation(api.admin.accounts.overrideAccountPlan);
  return (
    <ChoiceActionForm
      what="plan"
      choices={PLAN_IDS}
      current={current}
      initial={current === "trial" ? "basic" : current}
      describe={planName}
      onSubmit={(plan, reason) => setPlan({ userId, plan, reason })}
    />
  );
}

function planName(id: PlanId): string {
  return planFor(id)?.name ?? id;
}

function SuspensionForm({ userId, suspended }: { userId: Id<"users">; suspended: boolean }) {
  const suspend = useMutation(api.admin.accounts.suspend);
  const unsuspend = useMutation(api.admin.accounts.unsuspend);
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
  const setRole = useMutation(api.admin.accounts.setRole);
  return <ChoiceActionForm what="role" choices={ROLES} current={current} onSubmit={(role, reason) => setRole({ userId, role, reason })} />;
}
