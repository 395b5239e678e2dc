import { Badge } from "./Badge";
import { planFor } from "../lib/plans";

const PLAN_TONE = { trial: "info", basic: "neutral", pro: "success" } as const;

export function PlanBadge({ plan, testId }: { plan: string; testId?: string }) {
  const tone = PLAN_TONE[plan as keyof typeof PLAN_TONE] ?? "neutral";
  return (
    <Badge tone={tone} testId={testId}>
      {planFor(plan)?.name ?? plan} plan
    </Badge>
  );
}
