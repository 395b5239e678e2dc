// Row shapes the SPA shares across pages, derived from the backend's own validators
// so a change on the server shows up here as a type error.
import type { FunctionReturnType } from "convex/server";
import type { api } from "../../convex/_generated/api";

export type ApiKeyRow = FunctionReturnType<typeof api.apiKeys.manage.list>[number];
export type KeyEnvironment = ApiKeyRow["environment"];
// A row's `status` is as of the query; a page re-derives it with `keyStatus` from the model
// (convex/model/apiKeyStatus.ts) so a grace period or an expiry ends on screen on time.
export type { KeyStatus } from "../../convex/model/apiKeyStatus";

export type UsageSummary = FunctionReturnType<typeof api.usage.meters.summary>;
export type DailyUsageRow = FunctionReturnType<typeof api.usage.meters.daily>[number];
export type RecentUsageRow = FunctionReturnType<typeof api.usage.meters.recent>[number];
export type AlertRow = FunctionReturnType<typeof api.usage.alerts.mine>[number];
