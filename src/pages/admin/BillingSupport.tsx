import { useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card, Subsection } from "../../components/Card";
import { StatusBadge } from "../../components/Badge";
import { Loading } from "../../components/Loading";
import { ErrorBoundary } from "../../components/ErrorBoundary";
import { RelativeTime } from "../../components/RelativeTime";
import { SubscriptionNotice } from "../../components/SubscriptionNotice";
import { DataTable, type Column } from "../../components/DataTable";
import { EVENT_COLUMNS, INVOICE_COLUMNS } from "../../components/billingColumns";
import {
  PROVIDER_NAMES,
  subscriptionStatus,
  type BillingEventRow,
  type DeprovisionRow,
  type SubscriptionView,
} from "../../lib/billing";
import { planFor } from "../../lib/plans";
import { formatDate, formatDateTime } from "../../lib/format";
import { ReapplyButton, ReapplyEventForm, type ReapplyTarget } from "./ReapplyEventForm";
import { OverageSupport } from "./OverageSupport";

const SUBSCRIPTION_COLUMNS: readonly Column<SubscriptionView>[] = [
  {
    header: "Subscription",
    cell: (s) => (
      <>
        <code>{s.providerSubscriptionId}</code>
        <span className="cell-sub muted">
          {PROVIDER_NAMES[s.provider]}
          {s.pending ? " · provisional (from the checkout)" : ""}
        </span>
      </>
    ),
  },
  { header: "Plan", cell: (s) => planFor(s.plan)?.name ?? s.plan },
  {
    header: "Status",
    cell: (s) => (
      <StatusBadge status={subscriptionStatus(s)} testId="support-subscription-status">
        <span className="cell-sub muted">
          <code>{s.status}</code> · {s.grants ? "grants access" : "no access"}
        </span>
      </StatusBadge>
    ),
  },
  {
    header: "Period",
    cell: (s) =>
      s.currentPeriodStart !== null && s.currentPeriodEnd !== null ? (
        `${formatDate(s.currentPeriodStart)} – ${formatDate(s.currentPeriodEnd)}`
      ) : (
        <span className="muted">—</span>
      ),
  },
  {
    header: "Ends",
    cell: (s) => (
      <span data-testid="support-subscription-ends">
        {s.ended
          ? "Ended"
          : s.cancelsAt !== null
            ? `Cancels on ${formatDate(s.cancelsAt)}`
            : s.graceEndsAt !== null
              ? `Grace ends ${formatDate(s.graceEndsAt)}`
              : "Renews"}
      </span>
    ),
  },
  {
    header: "Provider time",
    cell: (s) => (
      <span title={formatDateTime(s.providerUpdatedAt)}>
        <RelativeTime at={s.providerUpdatedAt} />
      </span>
    ),
  },
];

const DEPROVISION_COLUMNS: readonly Column<DeprovisionRow>[] = [
  { header: "Requested", cell: (d) => <RelativeTime at={d.requestedAt} /> },
  { header: "Subscription", cell: (d) => <code>{d.providerSubscriptionId}</code> },
  { header: "Status", cell: (d) => d.status },
];

/**
 * The support console's billing section of one account (`billing.support.account`, live): the
 * subscription as the customer sees it, every subscription row, invoices, the webhook events
 * that concerned the account (applied, ignored or failed, and why) with "Re-apply…" on failed
 * ones, reported overage with each month's reconciliation (OverageSupport.tsx), and
 * deprovisioning requests. A plan by hand is the Actions card's "Change plan".
 */
export function BillingSupport({ userId, email }: { userId: Id<"users">; email: string }) {
  const billing = useQuery(api.billing.support.account, { userId });
  const [picked, setPicked] = useState<ReapplyTarget | null>(null);

  if (billing === undefined) {
    return (
      <Card title="Billing" testId="support-billing">
        <Loading label="Loading billing…" />
      </Card>
    );
  }
  const { summary } = billing;
  const eventColumns: readonly Column<BillingEventRow>[] = [
    ...Object.values(EVENT_COLUMNS),
    { header: "Actions", hideHeader: true, className: "cell-actions", cell: (e) => <ReapplyButton event={e} onPick={setPicked} /> },
  ];

  return (
    <Card title="Billing" testId="support-billing">
      <dl className="details">
        <div>
          <dt>Billed through</dt>
          <dd>{summary.provider === null ? <span className="muted">No checkout yet</span> : PROVIDER_NAMES[summary.provider]}</dd>
        </div>
        <div>
          <dt>Customer</dt>
          <dd>
            {billing.stripeCustomerId === null && billing.polarCustomerId === null ? (
              <span className="muted">None</span>
            ) : (
              <>
                {billing.stripeCustomerId !== null && <code>{billing.stripeCustomerId}</code>}{" "}
                {billing.polarCustomerId !== null && <code>{billing.polarCustomerId}</code>}
              </>
            )}
          </dd>
        </div>
        <div>
          <dt>Checkout</dt>
          <dd>{summary.canStartCheckout ? "Can start a checkout" : "Changes go through the portal"}</dd>
        </div>
      </dl>
      <SubscriptionNotice subscription={summary.subscription} testIdPrefix="support-" staff />

      <Subsection title="Subscriptions">
        <DataTable
          columns={SUBSCRIPTION_COLUMNS}
          rows={billing.subscriptions}
          rowKey={(s) => `${s.provider}:${s.providerSubscriptionId}`}
          empty={{ title: "No subscriptions", body: "A subscription appears when the provider confirms a checkout." }}
          caption={`Subscriptions of ${email}, newest provider state first`}
          testId="support-subscriptions"
          dense
        />
      </Subsection>

      <Subsection title="Invoices">
        <DataTable
          columns={Object.values(INVOICE_COLUMNS)}
          rows={billing.invoices}
          empty={{ title: "No invoices" }}
          caption={`Invoices of ${email}, newest first`}
          testId="support-invoices"
          rowTestId="support-invoice"
          dense
        />
      </Subsection>

      <Subsection title="Overage">
        <ErrorBoundary>
          <OverageSupport userId={userId} email={email} />
        </ErrorBoundary>
      </Subsection>

      <Subsection title="Webhook events">
        <DataTable
          columns={eventColumns}
          rows={billing.events}
          empty={{ title: "No billing events", body: "Stripe and Polar events about this account appear here as they arrive." }}
          caption={`Billing webhook events of ${email}, newest first`}
          testId="support-billing-events"
          rowTestId="support-billing-event"
          rowClassName={(e) => (e.status === "ignored" ? "row-muted" : undefined)}
          dense
        />
        {picked !== null && <ReapplyEventForm key={picked.eventId} target={picked} onClose={() => setPicked(null)} />}
      </Subsection>

      {billing.deprovisionRequests.length > 0 && (
        <Subsection title="Deprovisioning requests">
          <DataTable
            columns={DEPROVISION_COLUMNS}
            rows={billing.deprovisionRequests}
            empty={{ title: "None" }}
            caption={`Deprovisioning requests of ${email}`}
            dense
          />
        </Subsection>
      )}
    </Card>
  );
}
