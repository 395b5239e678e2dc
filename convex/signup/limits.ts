// The signup limits (@convex-dev/rate-limiter, the component the proxy already uses): per
// canonical mailbox per day, per client IP per hour, and a sharded global bucket. The IP comes
// from the request metadata Convex gives mutations, never from a header a client could set,
// and is kept only as an HMAC so attempts can be counted without storing addresses.
import { DAY, HOUR, MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import { keyedHex } from "../model/keyedHash";
import { SIGNUP_LIMITS, type SignupRefusalReason } from "../model/signup/policy";

const limiter = new RateLimiter(components.rateLimiter);

/**
 * Consumes one signup from each bucket that applies, or names the first that is empty. The IP
 * bucket goes first: a flood from one address is stopped before it can use up a mailbox's or
 * everyone's allowance.
 */
export async function takeSignupSlot(
  ctx: MutationCtx,
  opts: { mailbox: string; ipHash: string | undefined; perIpPerHour?: number },
): Promise<SignupRefusalReason | null> {
  if (opts.ipHash !== undefined) {
    const perIp = await limiter.limit(ctx, "signupPerIp", {
      key: opts.ipHash,
      config: { kind: "fixed window", rate: opts.perIpPerHour ?? SIGNUP_LIMITS.perIpPerHour, period: HOUR },
    });
    if (!perIp.ok) return "too_many_from_ip";
  }
  const perMailbox = await limiter.limit(ctx, "signupPerMailbox", {
    key: opts.mailbox,
    config: { kind: "fixed window", rate: SIGNUP_LIMITS.perMailboxPerDay, period: DAY },
  });
  if (!perMailbox.ok) return "too_many_for_email";
  const global = await limiter.limit(ctx, "signupGlobal", {
    config: {
      kind: "token bucket",
      rate: SIGNUP_LIMITS.globalPerMinute,
      period: MINUTE,
      shards: SIGNUP_LIMITS.globalShards,
    },
  });
  return global.ok ? null : "signups_busy";
}

const IP_HASH_LABEL = "poindexter:signup-ip:v1";

/** HMAC-SHA256 of a client IP, hex, keyed for this one use by ENCRYPTION_KEY (model/keyedHash.ts). */
export async function hashClientIp(ip: string, secret: string | undefined): Promise<string> {
  // Without ENCRYPTION_KEY (tests, a fresh deployment) the key is public and the hash only
  // pseudonymous; production sets it, which .env.local.example and the README say.
  return await keyedHex(ip, secret, IP_HASH_LABEL);
}
