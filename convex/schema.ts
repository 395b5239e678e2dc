// Every table, spread from one file per domain in schema/. Shared validators live in
// schema/validators.ts. Money is integer micro-dollars (1 USD = 1_000_000); times are epoch ms.
import { defineSchema } from "convex/server";
import { accountsTables } from "./schema/accounts";
import { alertsTables } from "./schema/alerts";
import { adminTables } from "./schema/admin";
import { apiKeysTables } from "./schema/apiKeys";
import { billingTables } from "./schema/billing";
import { credentialsTables } from "./schema/credentials";
import { identityTables } from "./schema/identity";
import { metricsTables } from "./schema/metrics";
import { oauthTables } from "./schema/oauth";
import { operationsTables } from "./schema/operations";
import { proxyTables } from "./schema/proxy";
import { signupTables } from "./schema/signup";
import { usageTables } from "./schema/usage";

export default defineSchema({
  ...accountsTables,
  ...apiKeysTables,
  ...usageTables,
  ...proxyTables,
  ...billingTables,
  ...signupTables,
  ...identityTables,
  ...oauthTables,
  ...credentialsTables,
  // Account deletion requests (user, support, Clerk) and their progress (convex/privacy/).
  ...operationsTables,
  // GET /metrics: counters the metrics cron folds from append-only rows (#13).
  ...metricsTables,
  // Ops alerts, the anomaly detector's folds and policy, key suspensions (#13).
  ...alertsTables,
  // The ops console (#13): admin API keys, refunds, the overview's aggregate rows.
  ...adminTables,
});
