// The one client of the providerPool workpool (convex.config.ts). Its settings are the pool's,
// shared by every kind of provider work, so they live here once: the workpool applies the
// options of whichever client enqueued last, and several clients with their own settings would
// keep overwriting each other. Each kind of work passes its own retry behaviour per enqueue.
import { Workpool } from "@convex-dev/workpool";
import { components } from "../_generated/api";

export const providerPool = new Workpool(components.providerPool, {
  // Email, billing re-fetches and the Signal keep-alive are not latency-critical; ten at a time
  // stays under every provider's rate limits. Identity provisioning, which a customer waits on,
  // has its own pool (identityPool.ts) so a burst of activations and this work never queue
  // behind each other.
  maxParallelism: 10,
  // Retries are opted into per enqueue (`retry: ...`), with the backoff that work needs.
  retryActionsByDefault: false,
  // Warnings and errors only: the periodic report would fill the deployment's logs and CI's.
  logLevel: "WARN",
});
