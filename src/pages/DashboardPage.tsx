import { useQuery } from "convex/react";
import { Link } from "react-router";
import { api } from "../../convex/_generated/api";
import { useViewer } from "../viewer/ViewerContext";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { PlanBadge } from "../components/PlanBadge";
import { StateBadge } from "../components/StateBadge";
import { Badge } from "../components/Badge";
import { UsageMeterCard } from "../components/UsageMeterCard";
import { AlertList } from "../components/AlertList";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { SetupGuide, ShowSetupGuideButton } from "../components/SetupGuide";
import { SubscriptionNotice } from "../components/SubscriptionNotice";
import { IdentityCard } from "../components/IdentityCard";
import { TryItCard } from "../components/TryItCard";
import { stateInfo } from "../lib/accountState";
import { FEATURE_LABELS, planFor } from "../lib/plans";
import {
  daysUntil,
  formatDate,
  formatMoney,
  formatRatePerMillion,
  formatTokens,
  plural,
} from "../lib/format";
import { useNow } from "../lib/useNow";
import { monthOf } from "../../convex/model/calendar";

export function DashboardPage() {
  const viewer = useViewer();
  const now = useNow(60_000);
  const month = monthOf(now);
  const plan = planFor(viewer.plan);
  const state = stateInfo(viewer.state);
  const trialDaysLeft =
    viewer.state === "trial" && viewer.trialEndsAt !== undefined
      ? daysUntil(viewer.trialEndsAt, now)
      : null;
  // From the live account row, so the guide does not flash in before its progress loads.
  const guideHidden = viewer.onboardingDismissedAt !== undefined;
  // Live: a webhook's "cancels on" or failed payment shows up here without a reload.
  const billing = useQuery(api.billing.summary.mine, {});
  const subscription = billing?.subscription ?? null;
  const liveSubscription = subscription !== null && !subscription.ended ? subscription : null;

  return (
    <div className="page">
      <PageHeader
        title={viewer.name ? `Welcome, ${viewer.name}` : "Dashboard"}
        tabTitle="Dashboard"
        description="Your account, your plan and this month's usage, updated live."
        actions={guideHidden ? <ShowSetupGuideButton /> : undefined}
      />

      <ErrorBoundary>
        <AlertList />
      </ErrorBoundary>

      {subscription?.banner === "payment_failed" && (
        <SubscriptionNotice
          subscription={subscription}
          testIdPrefix="dashboard-"
          action={
            <Link to="/billing" className="button button-small">
              Update payment method
            </Link>
          }
        />
      )}

      {!guideHidden && (
        <ErrorBoundary>
          <SetupGuide />
        </ErrorBoundary>
      )}

      <div className="grid grid-2">
        <Card title="Account" testId="account-card">
          <dl className="details">
            <div>
              <dt>Email</dt>
              <dd data-testid="dashboard-email">{viewer.email}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <StateBadge state={viewer.state} testId="dashboard-state" />
              </dd>
            </div>
          </dl>
          <p className={`state-explanation tone-${state.tone}`} data-testid="state-explanation">
            {state.explanation}
          </p>
          {trialDaysLeft !== null && viewer.trialEndsAt !== undefined && (
            <p className="trial-countdown" data-testid="trial-days-left">
              <strong>{plural(trialDaysLeft, "day")}</strong> left in your trial (ends{" "}
              {formatDate(viewer.trialEndsAt)}).
            </p>
          )}
        </Card>

        <Card
          title="Plan"
          testId="plan-card"
          actions={
            <Link to="/billing" className="button button-small" data-testid="plan-billing-link">
              {viewer.plan === "trial" ? "Choose a plan" : "Billing"}
            </Link>
          }
        >
          {plan === undefined ? (
            <p className="muted">
              Your account is on a plan this dashboard does not know ({viewer.plan}). Contact support.
            </p>
          ) : (
            <>
              <div className="plan-heading">
                <PlanBadge plan={viewer.plan} testId="dashboard-plan" />
                <p className="stat-big" data-testid="plan-price">
                  {plan.priceMicrosPerMonth === 0 ? "Free" : formatMoney(plan.priceMicrosPerMonth)}
                  {plan.priceMicrosPerMonth > 0 && <span className="muted"> / month</span>}
                </p>
              </div>
              <dl className="details">
                {liveSubscription !== null && liveSubscription.cancelsAt !== null && (
                  <div>
                    <dt>Subscription</dt>
                    <dd>
                      <Badge tone="warning" testId="dashboard-cancels-on">
                        Cancels on {formatDate(liveSubscription.cancelsAt)}
                      </Badge>
                    </dd>
                  </div>
                )}
                {liveSubscription !== null && liveSubscription.cancelsAt === null && liveSubscription.currentPeriodEnd !== null && (
                  <div>
                    <dt>Subscription</dt>
                    <dd data-testid="dashboard-renews-on">Renews on {formatDate(liveSubscription.currentPeriodEnd)}</dd>
                  </div>
                )}
                <div>
                  <dt>Included each month</dt>
                  <dd data-testid="plan-included">{formatTokens(plan.includedTokens)}</dd>
                </div>
                <div>
                  <dt>Beyond that</dt>
                  <dd>
                    {plan.overage === null
                      ? `Requests stop at ${formatTokens(plan.hardCapTokens)}`
                      : `${formatRatePerMillion(plan.overage.inputMicrosPerMillion)} in, ${formatRatePerMillion(plan.overage.outputMicrosPerMillion)} out, up to ${formatTokens(plan.hardCapTokens)}`}
                  </dd>
                </div>
                <div>
                  <dt>Rate limit</dt>
                  <dd>
                    {plan.limits.requestsPerMinute} requests / minute,{" "}
                    {plan.limits.concurrentRequests} at once
                  </dd>
                </div>
              </dl>
              <ul className="feature-list" aria-label="Included features">
                {plan.features.map((f) => (
                  <li key={f}>{FEATURE_LABELS[f]}</li>
                ))}
              </ul>
            </>
          )}
        </Card>
      </div>

      <ErrorBoundary>
        <IdentityCard />
      </ErrorBoundary>

      <ErrorBoundary>
        <UsageMeterCard month={month} />
      </ErrorBoundary>
      <ErrorBoundary>{/* The AI proxy from the browser with a session token */}<TryItCard /></ErrorBoundary>
    </div>
  );
}
