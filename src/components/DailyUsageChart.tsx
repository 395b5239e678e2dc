import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DailyUsageRow } from "../lib/apiTypes";
import { daysOfMonth, formatCompact, formatInteger } from "../lib/format";

// Distinguishable, calm colours; models beyond the palette reuse it in order.
const PALETTE = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0d9488", "#64748b"];

type ChartRow = { day: string; label: string } & Record<string, number | string>;

/** Rows of (day, model, tokens) to one row per day with a column per model. */
export function pivotDaily(month: string, rows: DailyUsageRow[]): { data: ChartRow[]; models: string[] } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(r.model, (totals.get(r.model) ?? 0) + r.tokens);
  // Biggest model at the bottom of each stack, so the stack reads from the base.
  const models = [...totals.keys()].sort((a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0));
  const byDay = new Map<string, ChartRow>();
  for (const day of daysOfMonth(month)) {
    const row: ChartRow = { day, label: String(Number(day.slice(8))) };
    for (const m of models) row[m] = 0;
    byDay.set(day, row);
  }
  for (const r of rows) {
    const row = byDay.get(r.day);
    if (row) row[r.model] = (row[r.model] as number) + r.tokens;
  }
  return { data: [...byDay.values()], models };
}

export function DailyUsageChart({ month, rows }: { month: string; rows: DailyUsageRow[] }) {
  const { data, models } = pivotDaily(month, rows);
  return (
    <div className="chart" data-testid="daily-chart">
      <ResponsiveContainer width="100%" height={280}>
        <BarChart data={data} margin={{ top: 8, right: 8, bottom: 0, left: 0 }}>
          <CartesianGrid vertical={false} stroke="var(--border)" />
          <XAxis dataKey="label" tickLine={false} axisLine={false} interval="preserveStartEnd" fontSize={12} />
          <YAxis
            tickFormatter={(v: number) => formatCompact(v)}
            tickLine={false}
            axisLine={false}
            width={48}
            fontSize={12}
          />
          <Tooltip
            formatter={(value) => `${formatInteger(Number(value))} tokens`}
            labelFormatter={(_label, payload) => {
              const day = payload?.[0]?.payload?.day as string | undefined;
              return day ?? "";
            }}
            cursor={{ fill: "rgba(79, 70, 229, 0.06)" }}
          />
          <Legend iconType="circle" wrapperStyle={{ fontSize: 12 }} />
          {models.map((m, i) => (
            <Bar key={m} dataKey={m} stackId="tokens" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
