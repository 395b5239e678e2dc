import { Bar, CartesianGrid, ComposedChart, Legend, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import { formatCompact, formatMoney, formatMonth } from "../../lib/format";

export interface OverviewMonth {
  month: string;
  tokensIn: number;
  tokensOut: number;
  costMicros: number;
  revenueMicros: number;
  refundedMicros: number;
}

/** Tokens per month as stacked bars (left axis), net revenue and model cost as lines in dollars (right axis). */
export function OverviewChart({ months }: { months: readonly OverviewMonth[] }) {
  const data = months.map((m) => ({
    label: formatMonth(m.month).replace(/ \d{4}$/, ""),
    month: m.month,
    tokensIn: m.tokensIn,
    tokensOut: m.tokensOut,
    revenue: (m.revenueMicros - m.refundedMicros) / 1e6,
    cost: m.costMicros / 1e6,
  }));
  return (
    <div className="chart" data-testid="overview-chart">
      <ResponsiveContainer width="100%" height={300}>
        <ComposedChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="label" tickLine={false} axisLine={false} fontSize={12} />
          <YAxis yAxisId="tokens" tickFormatter={(v: number) => formatCompact(v)} tickLine={false} axisLine={false} width={48} fontSize={12} />
          <YAxis yAxisId="usd" orientation="right" tickFormatter={(v: number) => (Math.abs(v) < 10 ? `$${v.toFixed(2)}` : `$${formatCompact(v)}`)} tickLine={false} axisLine={false} width={56} fontSize={12} />
          <Tooltip
            formatter={(value, name) => (name === "Net revenue" || name === "Model cost" ? formatMoney(Number(value) * 1e6) : `${formatCompact(Number(value))} tokens`)}
            labelFormatter={(_label, payload) => {
              const month = payload?.[0]?.payload?.month as string | undefined;
              return month ? formatMonth(month) : "";
            }}
          />
          <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} />
          <Bar yAxisId="tokens" dataKey="tokensIn" name="Input tokens" stackId="tokens" fill="#4f46e5" isAnimationActive={false} />
          <Bar yAxisId="tokens" dataKey="tokensOut" name="Output tokens" stackId="tokens" fill="#0891b2" isAnimationActive={false} />
          <Line yAxisId="usd" dataKey="revenue" name="Net revenue" stroke="#16a34a" strokeWidth={2} dot={false} isAnimationActive={false} />
          <Line yAxisId="usd" dataKey="cost" name="Model cost" stroke="#d97706" strokeWidth={2} dot={false} isAnimationActive={false} />
        </ComposedChart>
      </ResponsiveContainer>
    </div>
  );
}
