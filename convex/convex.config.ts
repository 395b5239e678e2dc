import { defineApp } from "convex/server";
import rateLimiter from "@convex-dev/rate-limiter/convex.config";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp();
// Per-plan request and token limits on the AI proxy (sharded token buckets, OCC-friendly).
app.use(rateLimiter);
// Provider calls with retries and bounded parallelism (provisioning, emails, billing sync).
app.use(workpool, { name: "providerPool" });

export default app;
