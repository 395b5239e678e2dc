// Rate limits on the OAuth endpoints a Dex instance calls without signing in (@convex-dev/
// rate-limiter, the component signup and the proxy already use). Codes and tokens are 256-bit, so
// these limits are not about guessing them: they keep one broken instance (a refresh loop, a
// device poller that ignores `interval`) or one address from turning the token endpoint into a
// write storm, since every request there is a mutation. Keys are the client_id and an HMAC of the
// client's address (the address itself is never stored).
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import { env, type ActionCtx } from "../_generated/server";
import { keyedHex } from "../model/keyedHash";

/**
 * Token buckets: a steady rate with a burst of the same size. A well-behaved instance refreshes
 * once an hour and polls the device grant every 5 s (12 a minute); 30 a minute per instance is
 * generous. Per address it is higher, since many instances can sit behind one NAT.
 */
export const OAUTH_LIMITS = {
  tokenPerClientPerMinute: 30,
  tokenPerIpPerMinute: 120,
  deviceStartPerIpPerMinute: 10,
} as const;

const limiter = new RateLimiter(components.rateLimiter, {
  oauthTokenPerClient: { kind: "token bucket", rate: OAUTH_LIMITS.tokenPerClientPerMinute, period: MINUTE },
  oauthTokenPerIp: { kind: "token bucket", rate: OAUTH_LIMITS.tokenPerIpPerMinute, period: MINUTE },
  oauthDeviceStartPerIp: { kind: "token bucket", rate: OAUTH_LIMITS.deviceStartPerIpPerMinute, period: MINUTE },
});

const IP_LABEL = "poindexter/oauth-client-ip/v1";

const ipKey = (ip: string) => keyedHex(ip, env.ENCRYPTION_KEY, IP_LABEL);

export type Refusal = { limit: "client" | "ip"; retryAfterMs: number };

/**
 * Takes one token-endpoint request from the instance's bucket and from its address's, or says
 * which is empty. The address bucket goes first, so a flood from one place cannot spend an
 * instance's allowance by naming its client_id.
 */
export async function takeTokenSlot(ctx: ActionCtx, clientId: string, ip: string | undefined): Promise<Refusal | null> {
  if (ip !== undefined) {
    const perIp = await limiter.limit(ctx, "oauthTokenPerIp", { key: await ipKey(ip) });
    if (!perIp.ok) return { limit: "ip", retryAfterMs: perIp.retryAfter };
  }
  const perClient = await limiter.limit(ctx, "oauthTokenPerClient", { key: clientId });
  return perClient.ok ? null : { limit: "client", retryAfterMs: perClient.retryAfter };
}

/** One device authorization (a new user code) per address, at most 10 a minute. */
export async function takeDeviceStartSlot(ctx: ActionCtx, ip: string | undefined): Promise<Refusal | null> {
  // Without an address (no proxy header) the bucket is shared: still a ceiling on user codes minted.
  const perIp = await limiter.limit(ctx, "oauthDeviceStartPerIp", { key: ip === undefined ? "unknown" : await ipKey(ip) });
  return perIp.ok ? null : { limit: "ip", retryAfterMs: perIp.retryAfter };
}
