import { useQuery } from "convex/react";
import { useState } from "react";
import { api } from "../../convex/_generated/api";
import type { UsageSummary } from "../lib/apiTypes";
import { PageHeader } from "../components/PageHeader";
import { Card } from "../components/Card";
import { Loading } from "../components/Loading";
import { EmptyState } from "../components/EmptyState";
import { UsageFigures } from "../components/UsageFigures";
import { Badge } from "../components/Badge";
import { RelativeTime } from "../components/RelativeTime";
import { ErrorBoundary } from "../components/ErrorBoundary";
import { DailyUsageChart } from "../components/DailyUsageChart";
import {
  formatInteger,
  formatMonth,
  formatMoney,
  formatTokens,
  monthKey,
  shiftMonth,
} from "../lib/format";
import { useNow } from "../lib/useNow";

export default function UsagePage() {
  const now = useNow(60_000);
  const thisMonth = monthKey(now);
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
      <ErrorBoundary>
        <RecentCard />
      </ErrorBoundary>
    </div>
  );
}

function SummaryCard({ month }: { month: string }) {
  const summary = useQuery(api.usage.summary, { month });
  return (
    <Card title="Meter" testId="usage-summary">
      {summary === undefined ? <Loading label="Loading usage…" /> : <SummaryBody summary={summary} />}
    </Card>
  );
}

function SummaryBody({ summary }: { summary: UsageSummary }) {
  return (
    <>
      <UsageFigures
        summary={summary}
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
  const rows = useQuery(api.usage.daily, { month });
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

const STATUS_TONE: Record<string, "success" | "warning" | "critical" | "neutral"> = {
  ok: "success",
  client_abandoned: "warning",
  upstream_error: "critical",
  rejected: "critical",
};

function RecentCard() {
  const recent = useQuery(api.usage.recent, { limit: 25 });
  return (
    <Card title="Recent requests">
      {recent === undefined ? (
        <Loading label="Loading requests…" />
      ) : recent.length === 0 ? (
        <EmptyState title="No requests yet">
          Point your Dex instance at the proxy with one of your API keys; each request appears here.
        </EmptyState>
      ) : (
        <div className="table-wrap">
          <table className="table table-dense" data-testid="recent-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Model</th>
                <th scope="col">Kind</th>
                <th scope="col" className="num">In</th>
                <th scope="col" className="num">Out</th>
                <th scope="col" className="num">Cost</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">Latency</th>
                <th scope="col">Key</th>
              </tr>
            </thead>
            <tbody>
              {recent.map((r) => (
                <tr key={r._id}>
                  <td>
                    <RelativeTime at={r.at} />
                  </td>
                  <td>
                    <code>{r.model}</code>
                  </td>
                  <td>{r.kind}</td>
                  <td className="num">{r.kind === "speech" ? `${formatInteger(r.characters)} chars` : formatInteger(r.tokensIn)}</td>
                  <td className="num">{formatInteger(r.tokensOut)}</td>
                  <td className="num">{formatMoney(r.costMicros)}</td>
                  <td>
                    <Badge tone={STATUS_TONE[r.status] ?? "neutral"} title={`HTTP ${r.httpStatus}`}>
                      {r.status.replace(/_/g, " ")}
                    </Badge>
                    {r.usageSource !== "provider" && (
                      <span className="muted cell-sub" title="How the token count was measured">
                        {r.usageSource}
                      </span>
                    )}
                  </td>
                  <td className="num">{formatInteger(r.latencyMs)} ms</td>
                  <td>{r.keyPrefix ? <code>{r.keyPrefix}…</code> : <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}
