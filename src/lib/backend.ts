// Shapes the SPA shares across pages, and references to backend functions that are
// not yet in the generated `api` (they are being written to the agreed contract).
// Each reference moves to `api.x.y` as soon as `npm run codegen` lists it.
import { makeFunctionReference, type FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";
import type { Id } from "../../convex/_generated/dataModel";

export type ApiKeyRow = FunctionReturnType<typeof api.apiKeys.list>[number];
export type KeyStatus = ApiKeyRow["status"];
export type KeyEnvironment = ApiKeyRow["environment"];

export interface UsageSummary {
  month: string;
  plan: string;
  includedTokens: number;
  hardCapTokens: number;
  tokensIn: number;
  tokensOut: number;
  totalTokens: number;
  heldTokens: number;
  remainingIncluded: number;
  percentOfIncluded: number;
  costMicros: number;
  overageMicros: number;
  requests: number;
}

export interface DailyUsageRow {
  day: string;
  model: string;
  tokens: number;
  costMicros: number;
}

export interface RecentUsageRow {
  _id: Id<"usageEvents">;
  at: number;
  model: string;
  kind: string;
  tokensIn: number;
  tokensOut: number;
  characters: number;
  costMicros: number;
  status: string;
  usageSource: string;
  latencyMs: number;
  httpStatus: number;
  keyPrefix?: string;
}

export interface AlertRow {
  _id: Id<"alerts">;
  kind: string;
  severity: "info" | "warning" | "critical";
  message: string;
  at: number;
}

export const usage = {
  summary: makeFunctionReference<"query", { month: string }, UsageSummary>("usage:summary"),
  daily: makeFunctionReference<"query", { month: string }, DailyUsageRow[]>("usage:daily"),
  recent: makeFunctionReference<"query", { limit?: number }, RecentUsageRow[]>("usage:recent"),
};

export const alerts = {
  mine: makeFunctionReference<"query", Record<string, never>, AlertRow[]>("alerts:mine"),
  dismiss: makeFunctionReference<"mutation", { alertId: Id<"alerts"> }, null>("alerts:dismiss"),
};

/**
 * A key's status as of `now`. The list query computes `status` when it runs, and a
 * grace period can end while the page stays open without any write to re-run it.
 */
export function effectiveKeyStatus(
  key: { status?: KeyStatus; revokedAt?: number; graceEndsAt?: number },
  now: number,
): KeyStatus {
  if (key.revokedAt !== undefined || key.status === "revoked") return "revoked";
  if (key.graceEndsAt !== undefined) return key.graceEndsAt > now ? "grace" : "revoked";
  return "active";
}
