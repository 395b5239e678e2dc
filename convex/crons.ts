import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

// Folds usage events into usageMonthly and raises quota alerts.
crons.interval("usage rollup", { minutes: 1 }, internal.usage.rollup, {});
// Releases quota held by requests that crashed or hung past their hold's TTL.
crons.interval("expire quota holds", { minutes: 1 }, internal.quota.expireHolds, {});
// Marks rotated keys whose grace period ended as revoked.
crons.interval("api key rotation sweep", { hours: 1 }, internal.apiKeys.sweepExpiredGrace, {});

export default crons;
