// Columns of billing listings, shared by the customer's Billing page and the support console.
import type { Column } from "./DataTable";
import { StatusBadge } from "./Badge";
import { RelativeTime, RelativeTimeWithDate } from "./RelativeTime";
import { eventStatus, formatInvoiceAmount, INVOICE_STATUS, PROVIDER_NAMES, type BillingEventRow, type InvoiceRow } from "../lib/billing";
import { formatDate } from "../lib/format";

export const INVOICE_COLUMNS = {
  date: {
    header: "Date",
    cell: (i) => <span data-testid="invoice-date">{formatDate(i.createdAt)}</span>,
  },
  number: {
    header: "Invoice",
    cell: (i) => (
      <>
        {i.number ?? <code>{i.providerInvoiceId}</code>}
        {i.periodStart !== null && i.periodEnd !== null && (
          <span className="cell-sub muted">
            {formatDate(i.periodStart)} – {formatDate(i.periodEnd)}
          </span>
        )}
      </>
    ),
  },
  amount: {
    header: "Amount",
    numeric: true,
    cell: (i) => <span data-testid="invoice-amount">{formatInvoiceAmount(i.amountMicros, i.currency)}</span>,
  },
  status: {
    header: "Status",
    cell: (i) => <StatusBadge status={INVOICE_STATUS[i.status] ?? { label: i.status, tone: "neutral" }} testId="invoice-status" />,
  },
  link: {
    header: "Invoice page",
    hideHeader: true,
    className: "cell-actions",
    cell: (i) =>
      i.hostedUrl === null ? (
        <span className="muted small">No invoice page</span>
      ) : (
        // The provider's hosted invoice page (long-lived by design, unlike portal sessions).
        <a href={i.hostedUrl} target="_blank" rel="noreferrer" data-testid="invoice-link">
          View invoice<span className="visually-hidden"> {i.number ?? i.providerInvoiceId} (opens in a new tab)</span>
        </a>
      ),
  },
} satisfies Record<string, Column<InvoiceRow>>;

export const INVOICE_TABLE_COLUMNS: readonly Column<InvoiceRow>[] = Object.values(INVOICE_COLUMNS);

export const EVENT_COLUMNS = {
  received: {
    header: "Received",
    cell: (e) => <RelativeTimeWithDate at={e.receivedAt} />,
  },
  type: {
    header: "Event",
    cell: (e) => (
      <>
        <code>{e.type}</code>
        <span className="cell-sub muted" title={e.eventId}>
          {PROVIDER_NAMES[e.provider as keyof typeof PROVIDER_NAMES] ?? e.provider} · {e.eventId}
        </span>
      </>
    ),
  },
  status: {
    header: "Result",
    cell: (e) => <StatusBadge status={eventStatus(e.status)} testId="billing-event-status" />,
  },
  outcome: {
    header: "Why",
    cell: (e) => (
      <>
        <span className={e.status === "failed" ? "cell-error" : "muted"} data-testid="billing-event-outcome">
          {e.outcome}
        </span>
        {e.reappliedAt !== undefined && (
          <span className="cell-sub muted">
            Re-applied <RelativeTime at={e.reappliedAt} />
          </span>
        )}
      </>
    ),
  },
} satisfies Record<string, Column<BillingEventRow>>;
