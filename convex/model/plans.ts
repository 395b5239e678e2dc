// The plans customers buy. Pure data plus helpers; no Convex imports.
// Money is integer micro-dollars: $1 = 1_000_000.

export type PlanId = "trial" | "basic" | "pro";

export type Feature = "ai" | "email" | "calendar" | "phone" | "signal" | "priority_support";

export interface Plan {
  id: PlanId;
  name: string;
  priceMicrosPerMonth: number;
  includedTokens: number;
  /** Trials are closed after this many days; paid plans renew monthly. */
  trialDays?: number;
  features: readonly Feature[];
  /** Overage per 1M tokens beyond the included amount; null means hard stop at the quota. */
  overage: { inputMicrosPerMillion: number; outputMicrosPerMillion: number } | null;
  /**
   * Absolute monthly token ceiling (included + overage allowance). Protects the customer
   * and us from a runaway client; support can raise it per account later.
   */
  hardCapTokens: number;
  limits: {
    requestsPerMinute: number;
    tokensPerMinute: number;
    concurrentRequests: number;
    /** Output tokens granted to one request that does not set max_tokens. */
    defaultMaxOutputTokens: number;
  };
  /** Model id prefixes this plan may call through the proxy. */
  models: readonly string[];
}

const M = 1_000_000;

/** Models every paid plan may call. */
const PAID_MODELS = [
  "gpt-4o",
  "gpt-4o-mini",
  "gpt-4.1",
  "gpt-4.1-mini",
  "gpt-4.1-nano",
  "text-embedding-3-small",
  "text-embedding-3-large",
  "tts-1",
  "tts-1-hd",
  "gpt-3.5-turbo-instruct",
  // Other providers behind the same endpoints (model/pricing.ts names each model's provider).
  "claude-sonnet-4-5",
  "claude-haiku-4-5",
  "gemini-2.5-flash",
  "gemini-2.5-pro",
  "eleven_multilingual_v2",
  "eleven_flash_v2_5",
  "eleven_turbo_v2_5",
] as const;

export const PLANS: Record<PlanId, Plan> = {
  trial: {
    id: "trial",
    name: "Trial",
    priceMicrosPerMonth: 0,
    includedTokens: 500_000,
    trialDays: 14,
    features: ["ai"],
    overage: null,
    hardCapTokens: 500_000,
    limits: {
      requestsPerMinute: 20,
      tokensPerMinute: 40_000,
      concurrentRequests: 2,
      defaultMaxOutputTokens: 1_024,
    },
    models: ["gpt-4o-mini", "gpt-4.1-mini", "gpt-4.1-nano", "text-embedding-3-small", "tts-1"],
  },
  basic: {
    id: "basic",
    name: "Basic",
    priceMicrosPerMonth: 50 * M,
    includedTokens: 5_000_000,
    features: ["ai", "email", "calendar", "phone", "signal"],
    overage: { inputMicrosPerMillion: 3 * M, outputMicrosPerMillion: 15 * M },
    hardCapTokens: 25_000_000,
    limits: {
      requestsPerMinute: 120,
      tokensPerMinute: 400_000,
      concurrentRequests: 8,
      defaultMaxOutputTokens: 4_096,
    },
    models: PAID_MODELS,
  },
  pro: {
    id: "pro",
    name: "Pro",
    priceMicrosPerMonth: 250 * M,
    includedTokens: 30_000_000,
    features: ["ai", "email", "calendar", "phone", "signal", "priority_support"],
    overage: { inputMicrosPerMillion: 2.5 * M, outputMicrosPerMillion: 12 * M },
    hardCapTokens: 150_000_000,
    limits: {
      requestsPerMinute: 600,
      tokensPerMinute: 2_000_000,
      concurrentRequests: 32,
      defaultMaxOutputTokens: 8_192,
    },
    // Pro adds the reasoning model.
    models: [...PAID_MODELS, "o4-mini"],
  },
};

export const PLAN_IDS: readonly PlanId[] = ["trial", "basic", "pro"];

export function getPlan(id: PlanId): Plan {
  return PLANS[id];
}

export function planHasFeature(id: PlanId, feature: Feature): boolean {
  return PLANS[id].features.includes(feature);
}

/** Exact model ids only: "gpt-4o" does not admit "gpt-4o-2024-xx" unless listed. */
export function planAllowsModel(id: PlanId, model: string): boolean {
  return PLANS[id].models.includes(model);
}

/**
 * Overage charge in micro-dollars for a month's usage. The included allowance is applied
 * to output tokens first (the dearer side), so the customer is billed at the lower rate
 * wherever the price sheet leaves a choice.
 */
export function overageMicros(id: PlanId, tokensIn: number, tokensOut: number): number {
  const plan = PLANS[id];
  if (plan.overage === null) return 0;
  let remaining = plan.includedTokens;
  const coveredOut = Math.min(tokensOut, remaining);
  remaining -= coveredOut;
  const coveredIn = Math.min(tokensIn, remaining);
  const billableOut = tokensOut - coveredOut;
  const billableIn = tokensIn - coveredIn;
  return Math.round(
    (billableIn * plan.overage.inputMicrosPerMillion +
      billableOut * plan.overage.outputMicrosPerMillion) /
      1_000_000,
  );
}
