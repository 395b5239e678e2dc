import type { CSSProperties } from "react";
import type { UsageSummary } from "../lib/apiTypes";
import { formatTokens, percentUsed } from "../lib/format";
import { usageFigures, type BillFigures, type UsageFigureId } from "../lib/usageFigures";
import { Meter } from "./Meter";

/**
 * A month's meter: used of included tokens as a headline and a bar, then the chosen
 * figures. `detail="page"` is the usage page's fuller version (wording, held-tokens
 * legend, wide grid); "card" is the dashboard's. Test ids are `<testIdPrefix>-<name>`.
 */
export function UsageFigures({
  summary,
  figures,
  testIdPrefix,
  detail,
  bill,
}: {
  summary: UsageSummary;
  /** The month's bill as invoiced (`billing.overageBill.mine`), for the "bill" figure. */
  bill?: BillFigures;
  figures: readonly UsageFigureId[];
  testIdPrefix: string;
  detail: "card" | "page";
}) {
  const page = detail === "page";
  const shown = usageFigures(summary, figures, bill);
  return (
    <>
      <div className="meter-heading">
        <p className="stat-big">
          <span data-testid={`${testIdPrefix}-used`}>{formatTokens(summary.totalTokens)}</span>
          <span className="muted"> of </span>
          <span data-testid={`${testIdPrefix}-included`}>{formatTokens(summary.includedTokens)}</span>
          {page && " included"}
        </p>
        <p className="muted">
          {percentUsed(summary.totalTokens, summary.includedTokens)} {page ? "used" : "of included tokens used"}
        </p>
      </div>
      <Meter
        used={summary.totalTokens}
        held={summary.heldTokens}
        included={summary.includedTokens}
        label="Included tokens used"
      />
      {page && (
        <p className="meter-legend muted">
          <span className="legend-swatch legend-used" aria-hidden="true" /> used
          <span className="legend-swatch legend-held" aria-hidden="true" /> held by requests in flight
        </p>
      )}
      {/* One row of columns, one per figure; narrow screens fold more than three into two. */}
      <dl
        className={`stats${shown.length > 3 ? " stats-wide" : ""}`}
        style={{ "--stats-columns": shown.length } as CSSProperties}
      >
        {shown.map((f) => (
          <div key={f.id}>
            <dt>{f.label}</dt>
            <dd title={f.title} data-testid={f.testId && `${testIdPrefix}-${f.testId}`}>
              {f.value}
            </dd>
          </div>
        ))}
      </dl>
    </>
  );
}
