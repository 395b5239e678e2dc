// Columns of a request listing, shared by the customer's usage page and the support console.
import { formatInteger, formatMoney } from "../lib/format";
import { Badge } from "./Badge";
import type { Column } from "./DataTable";
import { RelativeTime } from "./RelativeTime";

/** What every request listing carries; the customer's own listing adds the optional detail. */
export interface UsageFields {
  at: number;
  model: string;
  tokensIn: number;
  tokensOut: number;
  costMicros: number;
  status: string;
  kind?: string;
  characters?: number;
  httpStatus?: number;
  usageSource?: string;
}

const STATUS_TONE: Record<string, "success" | "warning" | "critical" | "neutral"> = {
  ok: "success",
  client_abandoned: "warning",
  upstream_error: "critical",
  rejected: "critical",
};

function StatusCell({ row }: { row: UsageFields }) {
  return (
    <>
      <Badge tone={STATUS_TONE[row.status] ?? "neutral"} title={row.httpStatus ? `HTTP ${row.httpStatus}` : undefined}>
        {row.status.replace(/_/g, " ")}
      </Badge>
      {row.usageSource !== undefined && row.usageSource !== "provider" && (
        <span className="muted cell-sub" title="How the token count was measured">
          {row.usageSource}
        </span>
      )}
    </>
  );
}

export const USAGE_COLUMNS = {
  when: { header: "When", cell: (r) => <RelativeTime at={r.at} /> },
  model: { header: "Model", cell: (r) => <code>{r.model}</code> },
  tokensIn: {
    header: "In",
    numeric: true,
    // Speech is billed by input characters, not tokens.
    cell: (r) =>
      r.kind === "speech" && r.characters !== undefined ? `${formatInteger(r.characters)} chars` : formatInteger(r.tokensIn),
  },
  tokensOut: { header: "Out", numeric: true, cell: (r) => formatInteger(r.tokensOut) },
  cost: { header: "Cost", numeric: true, cell: (r) => formatMoney(r.costMicros) },
  status: { header: "Status", cell: (r) => <StatusCell row={r} /> },
} satisfies Record<string, Column<UsageFields>>;
