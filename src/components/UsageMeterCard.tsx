import { useQuery } from "convex/react";
import { Link } from "react-router";
import { api } from "../../convex/_generated/api";
import { formatInteger, formatMoney, percentUsed, formatTokens } from "../lib/format";
import { Card } from "./Card";
import { Loading } from "./Loading";
import { Meter } from "./Meter";

/** This month's included tokens used vs remaining and the spend so far, live. */
export function UsageMeterCard({ month }: { month: string }) {
  const summary = useQuery(api.usage.summary, { month });
  return (
    <Card
      title="This month"
      testId="usage-meter"
      actions={
        <Link to="/usage" className="link-quiet">
          Details
        </Link>
      }
    >
      {summary === undefined ? (
        <Loading label="Loading usage…" />
      ) : (
        <>
          <div className="meter-heading">
            <p className="stat-big">
              <span data-testid="meter-used">{formatTokens(summary.totalTokens)}</span>
              <span className="muted"> of </span>
              <span data-testid="meter-included">{formatTokens(summary.includedTokens)}</span>
            </p>
            <p className="muted">{percentUsed(summary.totalTokens, summary.includedTokens)} of included tokens used</p>
          </div>
          <Meter
            used={summary.totalTokens}
            held={summary.heldTokens}
            included={summary.includedTokens}
            label="Included tokens used"
          />
          <dl className="stats">
            <div>
              <dt>Remaining</dt>
              <dd data-testid="meter-remaining" title={`${formatInteger(summary.remainingIncluded)} tokens`}>
                {formatTokens(summary.remainingIncluded)}
              </dd>
            </div>
            <div>
              <dt>Spend this month</dt>
              <dd data-testid="meter-spend">{formatMoney(summary.costMicros)}</dd>
            </div>
            <div>
              <dt>Requests</dt>
              <dd data-testid="meter-requests">{formatInteger(summary.requests)}</dd>
            </div>
          </dl>
        </>
      )}
    </Card>
  );
}
