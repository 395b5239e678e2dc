import { useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { useState } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { Card, Subsection } from "../../components/Card";
import { DataTable, type Column } from "../../components/DataTable";
import { Loading } from "../../components/Loading";
import { RelativeTime } from "../../components/RelativeTime";
import { StatusBadge } from "../../components/Badge";
import { TextField } from "../../components/TextField";
import { INVOICE_STATUS, PROVIDER_NAMES, formatInvoiceAmount } from "../../lib/billing";
import { formatDate } from "../../lib/format";
import { ActionForm } from "./ActionForm";
import { dollarsText, parseDollars } from "./refundAmount";

type InvoiceLine = FunctionReturnType<typeof api.admin.refunds.forAccount>[number];
type RefundRow = InvoiceLine["refunds"][number];

const REFUND_STATUS = {
  pending: { label: "Pending", tone: "info" },
  succeeded: { label: "Refunded", tone: "success" },
  failed: { label: "Failed", tone: "critical" },
} as const;

/**
 * Refunds on the account page: each paid invoice with what is refunded and what is left, a
 * "Refund…" form (all or part, with a reason) that goes through the account's billing provider,
 * and every refund asked for with its outcome. Live: a refund shows pending, then refunded once
 * the provider confirms (or failed with the provider's reason).
 */
export function RefundSupport({ userId }: { userId: Id<"users"> }) {
  const lines = useQuery(api.admin.refunds.forAccount, { userId });
  const [picked, setPicked] = useState<InvoiceLine | null>(null);
  if (lines === undefined) {
    return (
      <Card title="Refunds">
        <Loading label="Loading invoices…" />
      </Card>
    );
  }
  const columns: readonly Column<InvoiceLine>[] = [
    { header: "Date", cell: (l) => formatDate(l.invoice.createdAt) },
    { header: "Invoice", cell: (l) => <>{l.invoice.number ?? <code>{l.invoice.providerInvoiceId}</code>}<span className="cell-sub muted">{PROVIDER_NAMES[l.invoice.provider]}</span></> },
    { header: "Paid", numeric: true, cell: (l) => formatInvoiceAmount(l.invoice.amountMicros, l.invoice.currency) },
    { header: "Status", cell: (l) => <StatusBadge status={INVOICE_STATUS[l.invoice.status] ?? { label: l.invoice.status, tone: "neutral" }} testId="refund-invoice-status" /> },
    { header: "Refunded", numeric: true, cell: (l) => <span data-testid="refund-invoice-refunded">{formatInvoiceAmount(l.refundedMicros, l.invoice.currency)}</span> },
    {
      header: "Actions",
      hideHeader: true,
      className: "cell-actions",
      cell: (l) =>
        l.refundableMicros > 0 ? (
          <button type="button" className="button button-small" onClick={() => setPicked(l)} aria-label={`Refund invoice ${l.invoice.number ?? l.invoice.providerInvoiceId}`}>
            Refund…
          </button>
        ) : null,
    },
  ];
  const refunds = lines.flatMap((l) => l.refunds.map((r) => ({ ...r, invoiceLabel: l.invoice.number ?? l.invoice.providerInvoiceId })));
  return (
    <Card title="Refunds" testId="refund-support">
      <DataTable
        columns={columns}
        rows={lines}
        rowKey={(l) => l.invoice._id}
        empty={{ title: "No invoices", body: "Invoices appear once the billing provider reports a payment." }}
        caption="Invoices with what was refunded"
        testId="refund-invoices"
        dense
      />
      {picked !== null && <RefundForm key={picked.invoice._id} line={picked} onClose={() => setPicked(null)} />}
      {refunds.length > 0 && (
        <Subsection title="Refunds asked for">
          <DataTable
            columns={REFUND_COLUMNS}
            rows={refunds.sort((a, b) => b.requestedAt - a.requestedAt)}
            empty={{ title: "No refunds yet" }}
            caption="Refunds asked for on this account, newest first"
            testId="refund-rows"
            rowTestId="refund-row"
            dense
          />
        </Subsection>
      )}
    </Card>
  );
}

const REFUND_COLUMNS: readonly Column<RefundRow & { invoiceLabel: string }>[] = [
  { header: "Asked", cell: (r) => <RelativeTime at={r.requestedAt} /> },
  { header: "Invoice", cell: (r) => r.invoiceLabel },
  { header: "Amount", numeric: true, cell: (r) => formatInvoiceAmount(r.amountMicros, r.currency) },
  { header: "Status", cell: (r) => <StatusBadge status={REFUND_STATUS[r.status]} testId="refund-status" /> },
  { header: "By and why", cell: (r) => <>{r.actorLabel}<span className="cell-sub muted">“{r.reason}”</span></> },
  { header: "Provider", cell: (r) => (r.error ? <span className="text-critical">{r.error}</span> : r.providerRefundId ? <code>{r.providerRefundId}</code> : <span className="muted">—</span>) },
];

function RefundForm({ line, onClose }: { line: InvoiceLine; onClose: () => void }) {
  const request = useMutation(api.admin.refunds.request);
  const [amount, setAmount] = useState(dollarsText(line.refundableMicros));
  // One key per refund: a double submit, or a retry after an error or a lost answer, is the same
  // refund; once one is accepted, the next submit is a new refund with a new key.
  const [idempotencyKey, setIdempotencyKey] = useState(() => crypto.randomUUID());
  const left = formatInvoiceAmount(line.refundableMicros, line.invoice.currency);
  return (
    <div className="reapply-box" data-testid="refund-form">
      <ActionForm
        legend={`Refund ${line.invoice.number ?? line.invoice.providerInvoiceId} through ${PROVIDER_NAMES[line.invoice.provider]} (up to ${left})`}
        submitLabel="Refund"
        danger
        reasonId="refund-reason"
        onSubmit={async (reason) => {
          const parsed = parseDollars(amount);
          if (!parsed.ok) throw new Error(parsed.message);
          const result = await request({ invoiceId: line.invoice._id, amountMicros: parsed.micros, reason, idempotencyKey });
          setIdempotencyKey(crypto.randomUUID());
          const what = formatInvoiceAmount(result.amountMicros, line.invoice.currency);
          return result.replayed
            ? `That refund of ${what} was already asked for (${result.status}).`
            : `Refund of ${what} sent to ${PROVIDER_NAMES[line.invoice.provider]}; it shows as refunded once they confirm.`;
        }}
      >
        <TextField id="refund-amount" label="Amount (USD)" value={amount} onChange={setAmount} inputMode="decimal" required />
      </ActionForm>
      <button type="button" className="button button-small" onClick={onClose}>
        Close
      </button>
    </div>
  );
}
