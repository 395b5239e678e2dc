import type { ReactNode } from "react";
import { Badge } from "./Badge";
import { FEATURE_LABELS, type Plan } from "../lib/plans";
import { formatMoney, formatTokens } from "../lib/format";

/**
 * One plan's figures (price, included tokens, overage, limits, features), the current one
 * marked: the setup guide's plan step and the Billing page's plan list. `children` is the
 * plan's action (the Billing page's "Choose Basic").
 */
export function PlanOption({ plan, current, children }: { plan: Plan; current: boolean; children?: ReactNode }) {
  return (
    <li
      className={current ? "plan-option is-current" : "plan-option"}
      data-testid={`plan-option-${plan.id}`}
      aria-current={current ? "true" : undefined}
    >
      <div className="plan-option-heading">
        <strong>{plan.name}</strong>
        {current && <Badge tone="info">Your plan</Badge>}
      </div>
      <p className="plan-option-price">
        {plan.priceMicrosPerMonth === 0 ? (
          <>Free{plan.trialDays !== undefined && <span className="muted"> for {plan.trialDays} days</span>}</>
        ) : (
          <>
            {formatMoney(plan.priceMicrosPerMonth)}
            <span className="muted"> / month</span>
          </>
        )}
      </p>
      <ul className="plan-option-facts">
        <li>{formatTokens(plan.includedTokens)} included each month</li>
        <li>
          {plan.overage === null
            ? `Requests stop at ${formatTokens(plan.hardCapTokens)}`
            : `Beyond that ${formatMoney(plan.overage.inputMicrosPerMillion)} in, ${formatMoney(plan.overage.outputMicrosPerMillion)} out per 1M tokens`}
        </li>
        <li>
          {plan.limits.requestsPerMinute} requests / minute, {plan.limits.concurrentRequests} at once
        </li>
        <li className="muted">{plan.features.map((f) => FEATURE_LABELS[f]).join(", ")}</li>
      </ul>
      {children && <div className="plan-option-action">{children}</div>}
    </li>
  );
}
