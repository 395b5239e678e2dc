import { PLANS, type Feature, type Plan, type PlanId } from "../../convex/model/plans";

export { PLANS, PLAN_IDS } from "../../convex/model/plans";
export type { Plan, PlanId } from "../../convex/model/plans";

export const FEATURE_LABELS: Record<Feature, string> = {
  ai: "AI models through the proxy",
  email: "Assistant email address",
  calendar: "Calendar access",
  phone: "Phone number",
  signal: "Signal messaging",
  priority_support: "Priority support",
};

export function planFor(id: string): Plan | undefined {
  return Object.hasOwn(PLANS, id) ? PLANS[id as PlanId] : undefined;
}
