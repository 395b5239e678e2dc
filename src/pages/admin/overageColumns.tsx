// Columns and pieces of the support console's overage views: an account's months and outbox
// rows (OverageSupport.tsx) and every month that did not reconcile (OverageDiscrepanciesPage.tsx).
import { Badge, StatusBadge } from "../../components/Badge";
import { RelativeTime } from "../../components/RelativeTime";
import type { Column } from "../../components/DataTable";
import { PROVIDER_NAMES } from "../../lib/billing";
import { formatDateTime, formatInteger, formatMonth } from "../../lib/format";
import {
  allSent,
  formatQuantities,
  METER_NAMES,
  OUTBOX_STATUS,
  reconciliationStatus,
  type MeterQuantities,
  type OverageMonthRow,
  type OverageOutboxRow,
  type ReconciliationRow,
} from "../../lib/overage";

/** A reconciliation's status badge and, under it, each discrepancy in words. */
export function ReconciliationCell({ reconciliation }: { reconciliation: ReconciliationRow | null }) {
  const status = reconciliationStatus(reconciliation);
  return (
    <div data-testid="overage-reconciliation">
      <Badge tone={status.tone}>{status.label}</Badge>
      {reconciliation !== null && (
        <span className="cell-sub muted">
          checked <RelativeTime at={reconciliation.checkedAt} />
          {reconciliation.providerNote !== null && ` · ${reconciliation.providerNote}`}
        </span>
      )}
      {reconciliation !== null && reconciliation.discrepancies.length > 0 && (
        <ul className="cell-list" data-testid="overage-discrepancy-messages">
          {reconciliation.discrepancies.map((d) => (
            <li key={`${d.kind}:${d.meter}`}>{d.message}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Quantities({ q, testId }: { q: MeterQuantities | null; testId?: string }) {
  return q === null ? <span className="muted">—</span> : <span data-testid={testId}>{formatQuantities(q)}</span>;
}

/**
 * An account's overage months, newest first: decided for reporting ("reported") vs acknowledged
 * by the provider ("sent") vs what the ledger bills (from the last reconciliation, or the live
 * bill for the month in progress), and the reconciliation.
 */
export function overageMonthColumns(current: { month: string; billable: MeterQuantities }): readonly Column<OverageMonthRow>[] {
  return [
    {
      header: "Month",
      cell: (m) => (
        <>
          <span data-testid="overage-month-name">{formatMonth(m.month)}</span>
          <span className="cell-sub muted">
            {PROVIDER_NAMES[m.provider]} · {m.closedAt === null ? "open" : "closed"}
          </span>
        </>
      ),
    },
    { header: "Reported", cell: (m) => <Quantities q={m.reported} testId="overage-month-reported" /> },
    {
      header: "Sent",
      cell: (m) => (
        <>
          <Quantities q={m.sent} testId="overage-month-sent" />
          {!allSent(m) && <span className="cell-sub muted">not all acknowledged yet</span>}
        </>
      ),
    },
    {
      header: "Billable",
      cell: (m) => (
        <Quantities q={m.reconciliation?.billable ?? (m.month === current.month ? current.billable : null)} testId="overage-month-billable" />
      ),
    },
    { header: "Reconciliation", cell: (m) => <ReconciliationCell reconciliation={m.reconciliation} /> },
  ];
}

/** An outbox row: one provider event of one meter's chunk [from, to). */
export const OUTBOX_COLUMNS = {
  created: {
    header: "Decided",
    cell: (r) => (
      <span title={formatDateTime(r.createdAt)}>
        <RelativeTime at={r.createdAt} />
      </span>
    ),
  },
  chunk: {
    header: "Chunk",
    cell: (r) => (
      <>
        {formatMonth(r.month)} · {METER_NAMES[r.meter]} · {formatInteger(r.to - r.from)} tokens
        <span className="cell-sub muted">
          <code>{r.identifier}</code>
        </span>
      </>
    ),
  },
  status: {
    header: "Status",
    cell: (r) => (
      <>
        <StatusBadge status={OUTBOX_STATUS[r.status]} testId="overage-outbox-status" />
        <span className="cell-sub muted">
          {r.status === "sent" && r.sentAt !== null && (
            <>
              {PROVIDER_NAMES[r.provider]} {r.outcome === "duplicate" ? "already had it" : "took it"} <RelativeTime at={r.sentAt} />
            </>
          )}
          {r.status === "pending" && `to ${PROVIDER_NAMES[r.provider]}`}
          {r.lastError !== null && ` ${r.lastError}`}
        </span>
      </>
    ),
  },
} satisfies Record<string, Column<OverageOutboxRow>>;

/** A month that did not reconcile, for the support-wide list. */
export const DISCREPANCY_COLUMNS: readonly Column<ReconciliationRow>[] = [
  {
    header: "Checked",
    cell: (r) => (
      <span title={formatDateTime(r.checkedAt)}>
        <RelativeTime at={r.checkedAt} />
      </span>
    ),
  },
  {
    header: "Month",
    cell: (r) => (
      <>
        {formatMonth(r.month)}
        <span className="cell-sub muted">{PROVIDER_NAMES[r.provider]}</span>
      </>
    ),
  },
  { header: "Billable", cell: (r) => <Quantities q={r.billable} /> },
  { header: "Reported", cell: (r) => <Quantities q={r.reported} /> },
  { header: "Sent", cell: (r) => <Quantities q={r.sent} /> },
  { header: "Provider's totals", cell: (r) => <Quantities q={r.providerTotals} /> },
  { header: "Discrepancies", cell: (r) => <ReconciliationCell reconciliation={r} /> },
];
