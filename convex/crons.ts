import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Folds usage events into usageDaily (charts) and raises the quota alerts settle stamped.
// Off the proxy's path (quota checks read the balance document); every 10 s keeps the
// daily chart's live tail, and an alert's delay, to ~20 s.
crons.interval("usage rollup", { seconds: 10 }, internal.usage.rollup.foldEvents, {});
// Removes expired holds from the balances that carry one (they already stopped counting).
crons.interval("expire quota holds", { minutes: 1 }, internal.quota.ledger.deleteExpiredHolds, {});
// Marks rotated keys whose grace period ended as revoked.
crons.interval("api key rotation sweep", { hours: 1 }, internal.apiKeys.rotation.revokeEndedGrace, {});
// Trials: the 3-day warning (mail + alert + the exact expiry scheduled) and any trial past its end.
crons.interval("trial sweep", { hours: 1 }, internal.billing.trials.sweep, {});
// Overage (billing/overage*.ts): full chunks of the month every 5 minutes; the month's last
// partial chunks once it has ended; then the reconciliation of what was reported.
crons.interval("overage report", { minutes: 5 }, internal.billing.overage.reportCurrentMonth, {});
crons.monthly("overage close", { day: 1, hourUTC: 0, minuteUTC: 15 }, internal.billing.overage.closePreviousMonth, {});
crons.monthly("overage reconciliation", { day: 1, hourUTC: 6, minuteUTC: 20 }, internal.billing.overageReconcile.checkPreviousMonth, {});

// Identity (identity/maintenance.ts, identity/sms.ts): Signal accounts stay active only if they
// receive regularly (and what arrives is stored for the Dex API); a sweep advances identities
// whose scheduled wake-up was lost (Workspace deletion after retention, the SMS code deadline);
// SMS and Signal messages are kept 30 days.
crons.interval("signal keep-alive", { minutes: 5 }, internal.identity.maintenance.keepAlive, {});
crons.interval("identity sweep", { minutes: 15 }, internal.identity.maintenance.sweep, {});
crons.daily("identity message retention", { hourUTC: 3, minuteUTC: 40 }, internal.identity.sms.purgeOld, {});

// OAuth (oauth/maintenance.ts): expired token rows, the rows of grants revoked over a day ago,
// and spent codes, in bounded batches (a full batch schedules the next at once).
crons.interval("oauth token sweep", { hours: 1 }, internal.oauth.maintenance.sweep, {});

// The ops console's overview (admin/overview.ts): usage, revenue and account counts recomputed
// in bounded batches, so the page reads a dozen rows.
crons.interval("admin overview refresh", { minutes: 10 }, internal.admin.overview.refreshScheduled, {});

// Ops alerts (ops/alertsEvaluator.ts): folds new usage events into per-minute, per-key-hour and
// per-key-IP aggregates, then judges error rate, p99 latency, key anomalies and signup bursts.
crons.interval("ops alert evaluator", { minutes: 1 }, internal.ops.alertsEvaluator.evaluate, {});

// Operations (ops/metrics.ts, ops/readiness.ts): the metrics fold (usage and webhook events,
// identity step outcomes into /metrics counters, off the request path), and the scheduler
// heartbeat /readyz checks for scheduler lag.
crons.interval("ops metrics fold", { seconds: 15 }, internal.ops.metrics.fold, {});
crons.interval("scheduler heartbeat", { seconds: 30 }, internal.ops.readiness.beat, {});

// Provider credentials (credentials/rotation.ts): start rotations one overlap before expiry,
// revoke rotated ones whose overlap ended, delete long-expired session token rows.
crons.interval("credential rotation", { minutes: 5 }, internal.credentials.rotation.sweep, {});

// Retention and deletion (ops/retention.ts, privacy/process.ts): audit rows and raw usage events
// past their windows (rollups stay), in batches that reschedule while a backlog remains; and the
// sweep that re-kicks an account deletion whose scheduled step was lost.
crons.daily("audit log retention", { hourUTC: 3, minuteUTC: 50 }, internal.ops.retention.purgeAuditLogs, {});
crons.daily("usage event retention", { hourUTC: 4, minuteUTC: 10 }, internal.ops.retention.purgeUsageEvents, {});
crons.interval("account deletion sweep", { minutes: 15 }, internal.privacy.process.sweep, {});

export default crons;
