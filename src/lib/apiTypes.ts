// Row shapes the SPA shares across pages, derived from the backend's own validators
// so a change on the server shows up here as a type error.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";

export type ApiKeyRow = FunctionReturnType<typeof api.apiKeys.list>[number];
export type KeyStatus = ApiKeyRow["status"];
export type KeyEnvironment = ApiKeyRow["environment"];

export type UsageSummary = FunctionReturnType<typeof api.usage.summary>;
export type DailyUsageRow = FunctionReturnType<typeof api.usage.daily>[number];
export type RecentUsageRow = FunctionReturnType<typeof api.usage.recent>[number];
export type AlertRow = FunctionReturnType<typeof api.alerts.mine>[number];

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
