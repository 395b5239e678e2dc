// The one client of the identityPool workpool (convex.config.ts): identity provisioning and
// deprovisioning steps only. A pool of their own so a burst of activations neither waits behind
// welcome emails and billing re-fetches (providerPool) nor keeps them waiting.
//
// maxParallelism 50: one identity holds at most two slots at once (its email and phone branches
// run side by side, model/identity/provisioning.ts), and a step's action is a few provider round
// trips of 100-300 ms, so 50 slots let a burst of 25-50 activations (a launch, a marketing email)
// proceed without queueing while staying well inside the providers' own limits: Google's
// Directory allows about 25 requests/s per project for user writes by default and Telnyx 20
// number orders/s; 50 slots of ~200 ms calls issue at most ~250 requests/s spread over three
// providers, and a 429 is retried with backoff like any transient failure. Convex advises staying
// under 100 running functions across all pools on Pro: 50 here plus providerPool's 10 leaves room.
import { Workpool } from "@convex-dev/workpool";
import { components } from "../_generated/api";

export const IDENTITY_POOL_PARALLELISM = 50;

export const identityPool = new Workpool(components.identityPool, {
  maxParallelism: IDENTITY_POOL_PARALLELISM,
  // Every enqueue passes its own retry (STEP_RETRY in identity/lifecycle.ts).
  retryActionsByDefault: false,
  // Warnings and errors only: the periodic report would fill the deployment's logs and CI's.
  logLevel: "WARN",
});
