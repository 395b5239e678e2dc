import { useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import type { RecentUsageRow, UsageSummary } from "../lib/apiTypes";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { Loading } from "../components/Loading";
import { EmptyState } from "../components/EmptyState";
import { UsageFigures } from "../components/UsageFigures";
import { DataTable, type Column } from "../components/DataTable";
import { USAGE_COLUMNS } from "../components/usageColumns";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { DailyUsageChart } from "../components/DailyUsageChart";
import { DexOperationsCard } from "../components/DexOperationsCard";
import { formatInteger, formatMonth, formatTokens, shiftMonth } from "../lib/format";
import { useNow } from "../lib/useNow";
import { monthOf } from "../../convex/model/calendar";

export default function UsagePage() {
  const now = useNow(60_000);
  const thisMonth = monthOf(now);
  const [picked, setPicked] = useState<string | null>(null);
  const month = picked ?? thisMonth;

  return (
    <div className="page">
      <PageHeader
        title="Usage"
        description="Tokens and model cost for every request your keys make, updated as requests finish."
        actions={
          <div className="month-picker" role="group" aria-label="Month">
            <button
              type="button"
              className="button button-small"
              onClick={() => setPicked(shiftMonth(month, -1))}
              aria-label="Previous month"
            >
              ‹
            </button>
            <span className="month-label" aria-live="polite">
              {formatMonth(month)}
            </span>
            <button
              type="button"
              className="button button-small"
              onClick={() => setPicked(shiftMonth(month, 1) === thisMonth ? null : shiftMonth(month, 1))}
              disabled={month >= thisMonth}
              aria-label="Next month"
            >
              ›
            </button>
          </div>
        }
      />
      <ErrorBoundary resetKey={month}>
        <SummaryCard month={month} />
      </ErrorBoundary>
      <ErrorBoundary resetKey={month}>
        <DailyCard month={month} />
      </ErrorBoundary>
      <ErrorBoundary resetKey={month}>
        <DexOperationsCard month={month} />
      </ErrorBoundary>
      <ErrorBoundary>
        <RecentCard />
      </ErrorBoundary>
    </div>
  );
}

function SummaryCard({ month }: { month: string }) {
  const summary = useQuery(api.usage.meters.summary, { month });
  return (
    <Card title="Meter" testId="usage-summary">
      {summary === undefined ? <Loading label="Loading usage…" /> : <SummaryBody summary={summary} />}
    </Card>
  );
}

function SummaryBody({ summary }: { summary: UsageSummary }) {
  // The overage as invoiced (lines rounded to the cent); the ledger's figure shows until it loads.
  const bill = useQuery(api.billing.overageBill.mine, { month: summary.month });
  return (
    <>
      <UsageFigures
        summary={summary}
        bill={bill}
        figures={["used", "held", "remaining", "modelCost", "overage", "requests"]}
        testIdPrefix="usage"
        detail="page"
      />
      <p className="muted small">
        {formatTokens(summary.tokensIn)} in, {formatTokens(summary.tokensOut)} out. Requests stop at the
        monthly ceiling of {formatTokens(summary.hardCapTokens)}.
      </p>
    </>
  );
}

function DailyCard({ month }: { month: string }) {
  // Dex API operations (`dex:<kind>` rows) carry no tokens: DexOperationsCard counts them.
  const rows = useQuery(api.usage.meters.daily, { month })?.filter((r) => !r.model.startsWith("dex:"));
  return (
    <Card title="Daily tokens by model">
      {rows === undefined ? (
        <Loading label="Loading chart…" />
      ) : rows.length === 0 ? (
        <EmptyState title={`No usage in ${formatMonth(month)}`}>
          Requests through your API keys show up here as they finish.
        </EmptyState>
      ) : (
        <DailyUsageChart month={month} rows={rows} />
      )}
    </Card>
  );
}

const recentColumns: readonly Column<RecentUsageRow>[] = [
  USAGE_COLUMNS.when,
  USAGE_COLUMNS.model,
  { header: "Kind", cell: (r) => r.kind },
  USAGE_COLUMNS.tokensIn,
  USAGE_COLUMNS.tokensOut,
  USAGE_COLUMNS.cost,
  USAGE_COLUMNS.status,
  { header: "Latency", numeric: true, cell: (r) => `${formatInteger(r.latencyMs)} ms` },
  { header: "Key", cell: (r) => (r.keyPrefix ? <code>{r.keyPrefix}…</code> : <span className="muted">—</span>) },
];

function RecentCard() {
  const recent = useQuery(api.usage.meters.recent, { limit: 25 });
  return (
    <Card title="Recent requests">
      <DataTable
        columns={recentColumns}
        rows={recent}
        loadingLabel="Loading requests…"
        empty={{
          title: "No requests yet",
          body: "Point your Dex instance at the proxy with one of your API keys; each request appears here.",
        }}
        caption="Your most recent requests, newest first"
        dense
        testId="recent-table"
      />
    </Card>
  );
}
