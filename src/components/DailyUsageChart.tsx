import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DailyUsageRow } from "../lib/apiTypes";
import { modelKey, pivotDaily } from "../lib/dailyChart";
import { formatCompact, formatInteger } from "../lib/format";

// Distinguishable, calm colours; models beyond the palette reuse it in order.
const PALETTE = ["#4f46e5", "#0891b2", "#16a34a", "#d97706", "#db2777", "#7c3aed", "#0d9488", "#64748b"];

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
            <Bar key={m} dataKey={modelKey(m)} name={m} stackId="tokens" fill={PALETTE[i % PALETTE.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </div>
  );
}
