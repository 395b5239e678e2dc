// References to the backend functions the SPA calls that are not yet in the generated
// `api` (they are being written to the agreed contract). Each one moves to `api.x.y`
// as soon as `npm run codegen` lists it; the shapes below are that contract.
import { makeFunctionReference } from "convex/server";
import type { Id } from "../../convex/_generated/dataModel";

export type KeyStatus = "active" | "grace" | "revoked";
export type KeyEnvironment = "live" | "test";

export interface ApiKeyRow {
  _id: Id<"apiKeys">;
  name: string;
  prefix: string;
  environment: KeyEnvironment;
  createdAt: number;
  lastUsedAt?: number;
  lastUsedIp?: string;
  revokedAt?: number;
  graceEndsAt?: number;
  status: KeyStatus;
}

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

export const apiKeys = {
  list: makeFunctionReference<"query", Record<string, never>, ApiKeyRow[]>("apiKeys:list"),
  create: makeFunctionReference<
    "mutation",
    { name: string; environment?: KeyEnvironment },
    { keyId: Id<"apiKeys">; secret: string; prefix: string }
  >("apiKeys:create"),
  revoke: makeFunctionReference<"mutation", { keyId: Id<"apiKeys"> }, null>("apiKeys:revoke"),
  rotate: makeFunctionReference<
    "mutation",
    { keyId: Id<"apiKeys">; graceHours?: number },
    { keyId: Id<"apiKeys">; secret: string; prefix: string; graceEndsAt: number }
  >("apiKeys:rotate"),
};

export const usage = {
  summary: makeFunctionReference<"query", { month: string }, UsageSummary>("usage:summary"),
  daily: makeFunctionReference<"query", { month: string }, DailyUsageRow[]>("usage:daily"),
  recent: makeFunctionReference<"query", { limit?: number }, RecentUsageRow[]>("usage:recent"),
};

export const alerts = {
  mine: makeFunctionReference<"query", Record<string, never>, AlertRow[]>("alerts:mine"),
  dismiss: makeFunctionReference<"mutation", { alertId: Id<"alerts"> }, null>("alerts:dismiss"),
};
