// Per-account ceilings on minting (@convex-dev/rate-limiter, as signup, OAuth and the proxy use):
// each issue writes rows and each credential POST starts a rotation, so a holder stuck in a
// refresh loop must not turn the token endpoints into a write storm. A well-behaved holder
// refreshes once a day per provider, and a browser tab once per 15 minutes.
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

export const CREDENTIAL_LIMITS = {
  credentialIssuesPerAccountPerMinute: 20,
  sessionsPerAccountPerMinute: 30,
} as const;

const limiter = new RateLimiter(components.rateLimiter, {
  credentialIssue: { kind: "token bucket", rate: CREDENTIAL_LIMITS.credentialIssuesPerAccountPerMinute, period: MINUTE },
  sessionIssue: { kind: "token bucket", rate: CREDENTIAL_LIMITS.sessionsPerAccountPerMinute, period: MINUTE },
});

/** Takes one mint from the account's bucket; the wait in ms when it is empty, else null. */
export async function takeMintSlot(ctx: MutationCtx, kind: "credentialIssue" | "sessionIssue", userId: Id<"users">): Promise<number | null> {
  const r = await limiter.limit(ctx, kind, { key: userId });
  return r.ok ? null : r.retryAfter;
}
