// The front half of every metered request: the Bearer secret's hash (an API key or an OAuth
// access token) -> one `quota.ledger.begin` mutation -> a grant, or the refusal in OpenAI's words.
import { type ActionCtx, env } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { RequestShape } from "../model/quota/admission";
import { hashClientIp } from "../signup/limits";
import { refusalResponse, rateHeaders } from "./refusals";
import { type BearerSecret, clientIp, instanceIdOf } from "./request";

export interface Grant {
  requestId: string;
  userId: Id<"users">;
  /** The key that made the request; absent for an OAuth access token. */
  apiKeyId?: Id<"apiKeys">;
  /** An access token's grant instance, else the `x-dex-instance` header a key's caller sent. */
  instanceId?: string;
  holdTokens: number;
  maxOutputTokens: number;
  headers: Record<string, string>;
  /** The client IP as the signup HMAC, recorded on the usage event for the anomaly rules. */
  ipHash?: string;
  /** The balance document holding this request and its month, which settle reads by id. */
  heldOn: { balanceId: Id<"usageMonthly">; month: string };
}

/** Header names a credential's holder watches: a newer credential exists, fetch it before this time. */
export const CREDENTIAL_REFRESH_HEADER = "x-poindexter-credential-refresh";
export const CREDENTIAL_EXPIRES_HEADER = "x-poindexter-credential-expires-at";

function credentialHeaders(rotatingUntil: number | undefined): Record<string, string> {
  if (rotatingUntil === undefined) return {};
  return { [CREDENTIAL_REFRESH_HEADER]: "rotating", [CREDENTIAL_EXPIRES_HEADER]: new Date(rotatingUntil).toISOString() };
}

export type AdmissionResult = { ok: true; grant: Grant } | { ok: false; response: Response };

/**
 * Client IP -> its HMAC, per process: deriving the keyed hash costs ~0.25 ms of WebCrypto and
 * callers come back from the same few addresses. Bounded; cleared whole when full.
 */
const ipHashes = new Map<string, string>();
const IP_HASH_CACHE = 1_024;
let ipHashSecret: string | undefined;

async function ipHashOf(ip: string): Promise<string> {
  // A changed ENCRYPTION_KEY makes every cached hash stale.
  if (ipHashSecret !== env.ENCRYPTION_KEY) {
    ipHashes.clear();
    ipHashSecret = env.ENCRYPTION_KEY;
  }
  const cached = ipHashes.get(ip);
  if (cached !== undefined) return cached;
  const hash = await hashClientIp(ip, env.ENCRYPTION_KEY);
  if (ipHashes.size >= IP_HASH_CACHE) ipHashes.clear();
  ipHashes.set(ip, hash);
  return hash;
}

/**
 * What each secret's last admitted request resolved to, by the secret's hash, per process: its
 * key and the balance its hold went on. `begin` fetches them by id and checks them (a key whose
 * hash is another, a balance of another month, are looked up as usual), so a stale entry costs
 * one read and never a wrong decision; an index lookup costs more than a fetch by id. Hashes and
 * ids only, never a secret. Bounded; cleared whole when full.
 */
const resolved = new Map<string, { keyId?: Id<"apiKeys">; balanceId: Id<"usageMonthly"> }>();
const RESOLVED_CACHE = 1_024;

export async function admitRequest(
  ctx: ActionCtx,
  request: Request,
  args: RequestShape & { secret: BearerSecret; requestId: string },
): Promise<AdmissionResult> {
  const { secret, ...shape } = args;
  const ip = clientIp(request);
  const known = resolved.get(secret.hash);
  const result = await ctx.runMutation(internal.quota.ledger.begin, {
    ...shape,
    keyHash: secret.hash,
    secretKind: secret.kind,
    ip,
    ...(known?.keyId !== undefined ? { knownKeyId: known.keyId } : {}),
    ...(known !== undefined ? { knownBalanceId: known.balanceId } : {}),
  });
  const base = { "x-request-id": args.requestId };
  if (!result.ok) return { ok: false, response: refusalResponse(result.refusal, { headers: base, rate: result.rate }) };
  if (known === undefined || known.keyId !== result.apiKeyId || known.balanceId !== result.heldOn.balanceId) {
    if (resolved.size >= RESOLVED_CACHE) resolved.clear();
    resolved.set(secret.hash, { ...(result.apiKeyId !== undefined ? { keyId: result.apiKeyId } : {}), balanceId: result.heldOn.balanceId });
  }
  return {
    ok: true,
    grant: {
      requestId: args.requestId,
      userId: result.userId,
      apiKeyId: result.apiKeyId,
      // A token's instance is the one its grant was given to, whatever header it sends.
      instanceId: result.instanceId ?? instanceIdOf(request),
      holdTokens: result.holdTokens,
      maxOutputTokens: result.maxOutputTokens,
      heldOn: result.heldOn,
      headers: { ...base, ...rateHeaders(result.rate), ...credentialHeaders(result.credentialRotatingUntil) },
      ...(ip !== undefined ? { ipHash: await ipHashOf(ip) } : {}),
    },
  };
}
