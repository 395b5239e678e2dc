import { useQuery } from "convex/react";
import type { CSSProperties } from "react";
import { api } from "../../convex/_generated/api";
import { formatInteger, formatMonth } from "../lib/format";
import { Card } from "./Card";
import { Loading } from "./Loading";

const LABELS = [
  ["email_sent", "Mails sent"],
  ["email_deleted", "Mails deleted"],
  ["signal_sent", "Signal messages sent"],
  ["calendar_write", "Calendar changes"],
] as const;

/** What the account's Dex instance did through the Dex API this month, as counts (not billed). */
export function DexOperationsCard({ month }: { month: string }) {
  const counts = useQuery(api.dexApi.usageCounts.mine, { month });
  return (
    <Card title="Dex API operations" testId="dex-operations">
      {counts === undefined ? (
        <Loading label="Loading operations…" />
      ) : (
        <>
          <dl className="stats stats-wide" style={{ "--stats-columns": LABELS.length } as CSSProperties}>
            {LABELS.map(([kind, label]) => (
              <div key={kind}>
                <dt>{label}</dt>
                <dd data-testid={`dex-operations-${kind}`}>{formatInteger(counts[kind])}</dd>
              </div>
            ))}
          </dl>
          <p className="muted small">Mail, Signal and calendar actions in {formatMonth(month)}; they are counted, not billed.</p>
        </>
      )}
    </Card>
  );
}
