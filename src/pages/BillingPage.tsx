import { useQuery } from "convex/react";
import { useState } from "react";
import { Link, useSearchParams } from "react-router";
import { api } from "../../convex/_generated/api";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { Badge } from "../components/Badge";
import { Loading } from "../components/Loading";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { DataTable, type Column } from "../components/DataTable";
import { PaginatedTable, usePages } from "../components/PaginatedTable";
import { PlanOption } from "../components/PlanOption";
import { SubscriptionNotice } from "../components/SubscriptionNotice";
import { INVOICE_TABLE_COLUMNS } from "../components/billingColumns";
import { useViewer } from "../viewer/ViewerContext";
import {
  billingErrorInfo,
  checkoutReturnOf,
  PROVIDER_NAMES,
  subscriptionStatus,
  type BillingSummary,
  type CheckoutReturn,
} from "../lib/billing";
import { PLAN_IDS, PLANS, planFor, type PlanId } from "../lib/plans";
import { formatDate, formatMonth, formatTokens } from "../lib/format";
import { billRows, formatBill, type BillRow } from "../lib/overage";
import { monthOf } from "../../convex/model/calendar";
import { useNow } from "../lib/useNow";
import { useHostedRedirect, type HostedTarget } from "../lib/useHostedRedirect";

type Redirect = ReturnType<typeof useHostedRedirect>;

const HISTORY_PAGE = 10;
/** How long a return from checkout waits before saying the confirmation is slow. */
const SLOW_CONFIRMATION_MS = 60_000;

/**
 * Plans, the subscription and its invoices. Checkout comes back here (`?checkout=success` or
 * `?checkout=canceled`, built by convex/billing/sessions.ts), and the page shows the account's
 * live state: "Waiting for payment confirmation..." until the provider's webhook has landed.
 */
export function BillingPage() {
  const summary = useQuery(api.billing.summary.mine, {});
  const [params, setParams] = useSearchParams();
  const returned = checkoutReturnOf(params.get("checkout"));
  const redirect = useHostedRedirect();

  return (
    <div className="page">
      <PageHeader title="Billing" description="Your plan, your subscription and your invoices, updated live." />

      {returned !== null && (
        <CheckoutReturnPanel
          // A new return (another checkout) starts its own wait.
          key={returned}
          kind={returned}
          summary={summary}
          onClose={() => setParams({}, { replace: true })}
        />
      )}

      {summary === undefined ? (
        <Loading label="Loading your billing…" />
      ) : (
        <>
          <SubscriptionCard summary={summary} redirect={redirect} />
          <ErrorBoundary>
            <MonthBillCard />
          </ErrorBoundary>
          <PlansCard summary={summary} redirect={redirect} />
        </>
      )}

      <ErrorBoundary>
        <BillingHistory />
      </ErrorBoundary>
    </div>
  );
}

function CheckoutReturnPanel({
  kind,
  summary,
  onClose,
}: {
  kind: CheckoutReturn;
  summary: BillingSummary | undefined;
  onClose: () => void;
}) {
  const [since] = useState(() => Date.now());
  const now = useNow(5_000);
  const close = (
    <button type="button" className="button button-small" onClick={onClose}>
      Close
    </button>
  );

  if (summary === undefined) {
    return (
      <div className="notice notice-info" data-testid="checkout-return">
        <Loading label="Checking your account…" inline />
      </div>
    );
  }
  const planName = planFor(summary.plan)?.name ?? summary.plan;

  if (kind === "canceled") {
    return (
      <div className="notice notice-info notice-with-action" role="status" data-testid="checkout-return">
        <div data-testid="checkout-canceled">
          <p className="notice-title">Checkout canceled: nothing was charged</p>
          <p>
            You are still on the {planName} plan. Choose a plan below whenever you are ready.
          </p>
        </div>
        {close}
      </div>
    );
  }

  // Only the provider's webhook grants access; the redirect back proves nothing by itself.
  if (summary.subscription?.grants) {
    const plan = planFor(summary.subscription.plan);
    return (
      <div className="notice notice-success notice-with-action" role="status" data-testid="checkout-return">
        <div data-testid="checkout-confirmed">
          <p className="notice-title">
            Payment confirmed: you are on the <span data-testid="checkout-plan">{plan?.name ?? summary.subscription.plan}</span>{" "}
            plan
          </p>
          <p>
            {plan !== undefined && `${formatTokens(plan.includedTokens)} a month and everything on the plan are available now. `}
            <Link to="/">Go to the dashboard</Link>
          </p>
        </div>
        {close}
      </div>
    );
  }

  const provider = summary.provider !== null ? PROVIDER_NAMES[summary.provider] : "The payment provider";
  const slow = now - since > SLOW_CONFIRMATION_MS;
  return (
    <div className="notice notice-info" role="status" aria-live="polite" data-testid="checkout-return">
      <div data-testid="checkout-waiting">
        <p className="notice-title">
          <span className="waiting-dot" aria-hidden="true" /> Waiting for payment confirmation...
        </p>
        <p>
          {provider} confirms the payment to us directly. This page updates by itself as soon as it arrives: there is no
          need to reload or to pay again.
        </p>
        {slow && (
          <p data-testid="checkout-slow">
            This is taking longer than usual. You can leave this page: your plan changes as soon as the confirmation
            arrives, and the dashboard shows it. If nothing changes within the hour, contact support.
          </p>
        )}
      </div>
    </div>
  );
}

function ManageBillingButton({
  redirect,
  label = "Manage billing",
  testId = "manage-billing",
  block = false,
}: {
  redirect: Redirect;
  label?: string;
  testId?: string;
  block?: boolean;
}) {
  return (
    <button
      type="button"
      className={block ? "button button-block" : "button"}
      onClick={() => redirect.go("portal")}
      disabled={redirect.pending !== null}
      data-testid={testId}
    >
      {redirect.pending === "portal" ? "Opening…" : label}
    </button>
  );
}

/** What went wrong with a checkout or portal click, and the one thing that helps. */
function BillingError({ redirect, targets }: { redirect: Redirect; targets: (target: HostedTarget) => boolean }) {
  if (redirect.error === null || !targets(redirect.error.target)) return null;
  const { target } = redirect.error;
  const info = billingErrorInfo(redirect.error.error);
  return (
    <div className="notice notice-critical notice-with-action" role="alert" data-testid="billing-error">
      <div>
        <p className="notice-title">{info.title}</p>
        <p>{info.message}</p>
        {info.detail !== null && <p className="small">{info.detail}</p>}
      </div>
      {info.action === "manage" && <ManageBillingButton redirect={redirect} testId="manage-billing-from-error" />}
      {info.action === "retry" && (
        <button type="button" className="button button-small" onClick={() => redirect.go(target)}>
          Try again
        </button>
      )}
      {info.action === "choose_plan" && (
        <button type="button" className="button button-small" onClick={redirect.clearError}>
          OK
        </button>
      )}
    </div>
  );
}

function SubscriptionCard({ summary, redirect }: { summary: BillingSummary; redirect: Redirect }) {
  const sub = summary.subscription;
  return (
    <Card
      title="Subscription"
      testId="subscription-card"
      actions={summary.canOpenPortal ? <ManageBillingButton redirect={redirect} /> : undefined}
    >
      <BillingError redirect={redirect} targets={(t) => t === "portal"} />
      {sub === null ? (
        <p className="muted" data-testid="subscription-none">
          {summary.trialEndsAt !== null
            ? `No subscription yet: you are on the free trial until ${formatDate(summary.trialEndsAt)}. Choose a plan below to keep your assistant running after that.`
            : summary.plan !== "trial"
              ? `No subscription: your ${planFor(summary.plan)?.name ?? summary.plan} plan was set by support and is not billed through one. Choose a plan below to pay for it yourself.`
              : "No subscription yet. Choose a plan below."}
        </p>
      ) : (
        <>
          {/* Its remedy is the card's own "Manage billing". */}
          <SubscriptionNotice subscription={sub} />
          <dl className="details">
            <div>
              <dt>Plan</dt>
              <dd data-testid="subscription-plan">{planFor(sub.plan)?.name ?? sub.plan}</dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <span data-testid="subscription-status">
                  <Badge tone={subscriptionStatus(sub).tone}>{subscriptionStatus(sub).label}</Badge>
                </span>
                {sub.pending && <span className="muted small"> · confirming the details with {PROVIDER_NAMES[sub.provider]}…</span>}
              </dd>
            </div>
            {sub.currentPeriodStart !== null && sub.currentPeriodEnd !== null && (
              <div>
                <dt>Current period</dt>
                <dd data-testid="subscription-period">
                  {formatDate(sub.currentPeriodStart)} – {formatDate(sub.currentPeriodEnd)}
                </dd>
              </div>
            )}
            {!sub.ended && sub.cancelsAt !== null && (
              <div>
                <dt>Cancels on</dt>
                <dd data-testid="subscription-cancels-on">{formatDate(sub.cancelsAt)}</dd>
              </div>
            )}
            {!sub.ended && sub.cancelsAt === null && sub.currentPeriodEnd !== null && (
              <div>
                <dt>Renews on</dt>
                <dd data-testid="subscription-renews-on">{formatDate(sub.currentPeriodEnd)}</dd>
              </div>
            )}
            <div>
              <dt>Billed through</dt>
              <dd>{PROVIDER_NAMES[sub.provider]}</dd>
            </div>
          </dl>
        </>
      )}
    </Card>
  );
}

const BILL_COLUMNS: readonly Column<BillRow>[] = [
  { header: "Item", cell: (r) => <span data-testid="bill-line-item">{r.item}</span> },
  { header: "Quantity", numeric: true, cell: (r) => r.quantity },
  { header: "Price", numeric: true, cell: (r) => r.price },
  { header: "Amount", numeric: true, cell: (r) => <span data-testid="bill-line-amount">{r.amount}</span> },
];

/**
 * This month's bill so far (`billing.overageBill.mine`, live): the plan and the two overage lines
 * priced and rounded as the provider invoices them, so the total is the invoice's, to the cent.
 */
function MonthBillCard() {
  const now = useNow(60_000);
  const month = monthOf(now);
  const bill = useQuery(api.billing.overageBill.mine, { month });
  return (
    <Card title={`Bill for ${formatMonth(month)}`} testId="month-bill">
      {bill === undefined ? (
        <Loading label="Loading this month's bill…" />
      ) : (
        <>
          <DataTable
            columns={BILL_COLUMNS}
            rows={billRows(bill)}
            rowKey={(r) => r.key}
            empty={{ title: "Nothing billed" }}
            caption={`The bill for ${formatMonth(month)} so far`}
            testId="bill-lines"
            rowTestId="bill-line"
            dense
            footer={
              <>
                <span>Bill this month so far</span>
                <strong data-testid="month-bill-total">{formatBill(bill)}</strong>
              </>
            }
          />
          <p className="muted small">
            {bill.lines.length === 0
              ? `The ${planFor(bill.plan)?.name ?? bill.plan} plan has no overage: requests stop at its limit.`
              : "Tokens beyond your plan's included amount are billed per million, input and output apart, each line rounded to the cent as your invoice shows it. The figures update as you use your assistant."}
          </p>
        </>
      )}
    </Card>
  );
}

function PlansCard({ summary, redirect }: { summary: BillingSummary; redirect: Redirect }) {
  const viewer = useViewer();
  const sub = summary.subscription;
  // As convex/billing/view.ts decides canStartCheckout: a subscription that has not ended and got
  // past its first payment is changed in the portal, never bought twice.
  const live = sub !== null && !sub.ended && sub.status !== "incomplete" && sub.status !== "incomplete_expired";
  // No live subscription, yet no checkout allowed: support holds the account.
  const held = !summary.canStartCheckout && !live;

  function action(id: PlanId) {
    const plan = PLANS[id];
    if (id === "trial") {
      return summary.plan === "trial" && viewer.trialEndsAt !== undefined ? (
        <p className="muted small">Ends on {formatDate(viewer.trialEndsAt)}</p>
      ) : null;
    }
    if (live && sub.plan === id) {
      return (
        <p className="muted small">
          {sub.cancelsAt !== null
            ? `Ends on ${formatDate(sub.cancelsAt)}. Renew it under Manage billing.`
            : "Change or cancel it under Manage billing."}
        </p>
      );
    }
    if (summary.canStartCheckout) {
      return (
        <button
          type="button"
          className="button button-primary button-block"
          onClick={() => redirect.go(id)}
          disabled={redirect.pending !== null}
          data-testid={`choose-${id}`}
        >
          {redirect.pending === id ? "Opening checkout…" : `Choose ${plan.name}`}
        </button>
      );
    }
    if (live && summary.canOpenPortal) {
      return <ManageBillingButton redirect={redirect} label={`Switch to ${plan.name}`} testId={`switch-${id}`} block />;
    }
    return null;
  }

  return (
    <Card title="Plans" testId="plans-card">
      <BillingError redirect={redirect} targets={(t) => t !== "portal"} />
      {held && (
        <p className="notice notice-warning notice-compact" data-testid="billing-held">
          Your account is on hold with support, so plans can't be bought right now. Contact support.
        </p>
      )}
      <ul className="plan-options" aria-label="Plans">
        {PLAN_IDS.map((id) => (
          <PlanOption key={id} plan={PLANS[id]} current={summary.plan === id}>
            {action(id)}
          </PlanOption>
        ))}
      </ul>
      <p className="muted small plan-options-note">
        Prices are per month in US dollars. You pay in a secure hosted checkout; the plan applies as soon as the payment
        is confirmed, and you can change or cancel it at any time under Manage billing.
      </p>
    </Card>
  );
}

function BillingHistory() {
  const page = usePages(api.billing.summary.invoices, {}, HISTORY_PAGE);
  return (
    <Card title="Billing history" testId="billing-history">
      <PaginatedTable
        columns={INVOICE_TABLE_COLUMNS}
        page={page}
        loadingLabel="Loading invoices…"
        empty={{ title: "No invoices yet", body: "Each payment's invoice appears here, with a link to the invoice page." }}
        caption="Invoices, newest first"
        testId="invoices-table"
        rowTestId="invoice-row"
      />
    </Card>
  );
}
