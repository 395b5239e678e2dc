import { useMutation, useQuery } from "convex/react";
import type { CSSProperties } from "react";
import type { FunctionReturnType } from "convex/server";
import { api } from "../../../convex/_generated/api";
import { monthOf } from "../../../convex/model/calendar";
import { PageHeader } from "../../components/PageHeader";
import { Card } from "../../components/Card";
import { Loading } from "../../components/Loading";
import { EmptyState } from "../../components/EmptyState";
import { ErrorNotice } from "../../components/ErrorNotice";
import { RelativeTime } from "../../components/RelativeTime";
import { DataTable, type Column } from "../../components/DataTable";
import { stateInfo } from "../../lib/accountState";
import { formatInteger, formatMoney, formatMonth, formatTokens } from "../../lib/format";
import { planFor } from "../../lib/plans";
import { useAsyncAction } from "../../lib/useAsyncAction";
import { useNow } from "../../lib/useNow";
import { OverviewChart } from "./OverviewChart";

type Overview = FunctionReturnType<typeof api.admin.overview.get>;
type Month = Overview["months"][number];

/**
 * Aggregate usage and revenue (this month and the 11 before it) and accounts by state and
 * plan, from the rows the overview refresh keeps (every 10 minutes, or "Refresh now"): the
 * page reads a dozen rows however many accounts there are, and updates live when a refresh
 * lands.
 */
export default function OverviewPage() {
  const overview = useQuery(api.admin.overview.get, {});
  return (
    <div className="page">
      <PageHeader
        title="Overview"
        description="Usage and revenue across every account, by month, and accounts by state and plan."
        actions={overview !== undefined && <RefreshButton refreshing={overview.refreshing !== null} />}
      />
      {overview === undefined ? <Loading label="Loading the overview…" /> : <OverviewBody overview={overview} />}
    </div>
  );
}

function RefreshButton({ refreshing }: { refreshing: boolean }) {
  const refresh = useMutation(api.admin.overview.refresh);
  const { pending, error, run } = useAsyncAction();
  return (
    <div className="refresh">
      <button type="button" className="button" disabled={pending || refreshing} onClick={() => void run(async () => void (await refresh({})))}>
        {refreshing ? "Refreshing…" : "Refresh now"}
      </button>
      {error !== null && <ErrorNotice error={error} compact />}
    </div>
  );
}

function OverviewBody({ overview }: { overview: Overview }) {
  const now = useNow(60_000);
  if (overview.computedAt === null) {
    return (
      <Card>
        <EmptyState title={overview.refreshing ? "Computing the first figures…" : "No figures yet"}>
          The overview is computed every 10 minutes in the background; use Refresh now to compute it at once.
        </EmptyState>
      </Card>
    );
  }
  const thisMonth = monthOf(now);
  const current = overview.months.find((m) => m.month === thisMonth) ?? overview.months[overview.months.length - 1];
  return (
    <>
      <p className="muted small" data-testid="overview-computed">
        Figures as of <RelativeTime at={overview.computedAt} />
        {overview.refreshing && " · refreshing now"}
      </p>
      {current && <MonthFigures month={current} />}
      <Card title="Last 12 months">
        <OverviewChart months={overview.months} />
        <DataTable
          columns={MONTH_COLUMNS}
          rows={[...overview.months].reverse()}
          rowKey={(m) => m.month}
          empty={{ title: "No months yet" }}
          caption="Usage and revenue per month, newest first"
          dense
          testId="overview-months"
        />
      </Card>
      {overview.accounts && <AccountCounts accounts={overview.accounts} />}
    </>
  );
}

function MonthFigures({ month }: { month: Month }) {
  const figures: Array<[string, string, string]> = [
    ["Tokens", formatTokens(month.tokensIn + month.tokensOut), "overview-tokens"],
    ["Requests", formatInteger(month.requests), "overview-requests"],
    ["Model cost", formatMoney(month.costMicros), "overview-cost"],
    ["Active accounts", formatInteger(month.activeAccounts), "overview-active"],
    ["Revenue", formatMoney(month.revenueMicros), "overview-revenue"],
    ["Refunded", formatMoney(month.refundedMicros), "overview-refunded"],
  ];
  return (
    <Card title={formatMonth(month.month)}>
      <dl className="stats stats-wide" style={{ "--stats-columns": figures.length } as CSSProperties}>
        {figures.map(([label, value, testId]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd data-testid={testId}>{value}</dd>
          </div>
        ))}
      </dl>
    </Card>
  );
}

const MONTH_COLUMNS: readonly Column<Month>[] = [
  { header: "Month", cell: (m) => formatMonth(m.month) },
  { header: "Input tokens", numeric: true, cell: (m) => formatInteger(m.tokensIn) },
  { header: "Output tokens", numeric: true, cell: (m) => formatInteger(m.tokensOut) },
  { header: "Requests", numeric: true, cell: (m) => formatInteger(m.requests) },
  { header: "Model cost", numeric: true, cell: (m) => formatMoney(m.costMicros) },
  { header: "Active accounts", numeric: true, cell: (m) => formatInteger(m.activeAccounts) },
  { header: "Paid invoices", numeric: true, cell: (m) => formatInteger(m.paidInvoices) },
  { header: "Revenue", numeric: true, cell: (m) => formatMoney(m.revenueMicros) },
  { header: "Refunded", numeric: true, cell: (m) => formatMoney(m.refundedMicros) },
];

type Count = { name: string; label: string; accounts: number };
const COUNT_COLUMNS = (what: string): readonly Column<Count>[] => [
  { header: what, cell: (c) => c.label },
  { header: "Accounts", numeric: true, cell: (c) => formatInteger(c.accounts) },
];

function counts(record: Record<string, number>, label: (name: string) => string): Count[] {
  return Object.entries(record)
    .map(([name, accounts]) => ({ name, label: label(name), accounts }))
    .sort((a, b) => b.accounts - a.accounts);
}

function AccountCounts({ accounts }: { accounts: NonNullable<Overview["accounts"]> }) {
  return (
    <div className="grid grid-2 grid-top">
      <Card title={`Accounts by state (${formatInteger(accounts.total)} in all)`}>
        <DataTable
          columns={COUNT_COLUMNS("State")}
          rows={counts(accounts.byState, (s) => stateInfo(s).label)}
          rowKey={(c) => c.name}
          empty={{ title: "No accounts yet" }}
          caption="Accounts by state"
          dense
          testId="overview-by-state"
        />
      </Card>
      <Card title="Accounts by plan">
        <DataTable
          columns={COUNT_COLUMNS("Plan")}
          rows={counts(accounts.byPlan, (p) => planFor(p)?.name ?? p)}
          rowKey={(c) => c.name}
          empty={{ title: "No accounts yet" }}
          caption="Accounts by plan"
          dense
          testId="overview-by-plan"
        />
      </Card>
    </div>
  );
}
