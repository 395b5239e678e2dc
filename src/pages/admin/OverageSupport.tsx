import { useMutation, useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Loading } from "../../components/Loading";
import { DataTable, type Column } from "../../components/DataTable";
import { formatMonth } from "../../lib/format";
import { billBreakdown, formatBill, formatQuantities, type OverageOutboxRow } from "../../lib/overage";
import { ActionForm } from "./ActionForm";
import { OUTBOX_COLUMNS, overageMonthColumns } from "./overageColumns";

/**
 * The support console's overage of one account (`billing.overageSupport.account`, live): this
 * month's bill as the provider will invoice it, each month's reported vs acknowledged vs billable
 * tokens with its reconciliation, and the latest outbox rows, with "Resend…" on a failed one.
 */
export function OverageSupport({ userId, email }: { userId: Id<"users">; email: string }) {
  const overage = useQuery(api.billing.overageSupport.account, { userId });
  const [picked, setPicked] = useState<OverageOutboxRow | null>(null);

  if (overage === undefined) return <Loading label="Loading overage…" />;
  const { bill } = overage;
  const outboxColumns: readonly Column<OverageOutboxRow>[] = [
    ...Object.values(OUTBOX_COLUMNS),
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (r) =>
        r.status === "failed" ? (
          <button type="button" className="button button-small" onClick={() => setPicked(r)} aria-label={`Resend ${r.identifier}`}>
            Resend…
          </button>
        ) : null,
    },
  ];

  return (
    <div data-testid="support-overage">
      <dl className="details">
        <div>
          <dt>Bill for {formatMonth(bill.month)}</dt>
          <dd>
            <strong data-testid="support-month-bill">{formatBill(bill)}</strong>{" "}
            <span className="muted small">{billBreakdown(bill)}</span>
          </dd>
        </div>
        <div>
          <dt>Billable so far</dt>
          <dd data-testid="support-month-billable">{formatQuantities(bill.billable)}</dd>
        </div>
      </dl>

      <h4>Reported overage by month</h4>
      <DataTable
        columns={overageMonthColumns(bill)}
        rows={overage.months}
        rowKey={(m) => m.month}
        empty={{
          title: "No overage reported",
          body: "A month appears here once tokens beyond the plan's included amount are reported to the provider.",
        }}
        caption={`Overage months of ${email}, newest first`}
        testId="support-overage-months"
        rowTestId="support-overage-month"
        dense
      />

      <h4>Provider events (outbox)</h4>
      <DataTable
        columns={outboxColumns}
        rows={overage.outbox}
        rowKey={(r) => r.identifier}
        empty={{ title: "No overage events", body: "Each chunk of overage reported to the provider is listed here with its status." }}
        caption={`Latest overage events of ${email}, newest first`}
        testId="support-overage-outbox"
        rowTestId="support-overage-event"
        rowClassName={(r) => (r.status === "sent" ? "row-muted" : undefined)}
        dense
      />
      {picked !== null && <ResendOverageForm key={picked.identifier} row={picked} onClose={() => setPicked(null)} />}
    </div>
  );
}

/**
 * Sends a failed overage row again under its own identifier (`billing.overageSupport.resend`),
 * with a reason for the audit log. Stripe drops a repeat within 24 hours of an attempt that landed;
 * for an older row, check the month's reconciliation (the provider's totals) first.
 */
function ResendOverageForm({ row, onClose }: { row: OverageOutboxRow; onClose: () => void }) {
  const resend = useMutation(api.billing.overageSupport.resend);
  return (
    <div className="reapply-box" data-testid="resend-overage-form">
      <ActionForm
        legend={`Resend ${row.identifier}`}
        submitLabel="Resend"
        reasonId={`resend-reason-${row.identifier}`}
        onSubmit={async (reason) => {
          await resend({ identifier: row.identifier, reason });
          return "Queued: the row is pending and is sent again under the same identifier.";
        }}
      />
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
