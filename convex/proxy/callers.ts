// Caller authentication for OpenAI-shaped endpoints that call no provider (/v1/models, the
// refusals before a hold, and the Dex API's key path): the Bearer secret's hash -> the caller,
// or the refusal in the same words the metered endpoints use. An API key or an OAuth access
// token whose grant has the `ai` scope. One cached query per request (apiKeys.callers.lookup or
// lookupToken); the mutation that records the last use runs only when that record is stale
// (once a minute per key or grant).
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { LAST_USED_STALE_MS } from "../lib/apiKeys";
import { AI_SCOPE, tokenDecision } from "../lib/callerAuth";
import type { AccountState } from "../model/accounts/accountState";
import { keyStatus } from "../model/apiKeyStatus";
import type { PlanId } from "../model/plans";
import type { CallerRefusal } from "../model/quota/admission";
import { grantUseDue } from "../oauth/store";
import { decideBearer } from "../credentials/bearer";
import { refusalResponse } from "./refusals";
import { type BearerSecret, bearerSecretOf, clientIp } from "./request";

export interface Caller {
  userId: Id<"users">;
  /** The key, when the caller sent one. */
  keyId?: Id<"apiKeys">;
  /** The grant and its instance, when the caller sent an OAuth access token. */
  grantId?: Id<"oauthGrants">;
  instanceId?: string;
  plan: PlanId;
  state: AccountState;
  /** A provider credential's reach (its provider and endpoints), when the caller sent one. */
  credentialScope?: { provider: string; scopes: string[] };
}

type Decision = { ok: true; caller: Caller; stale: boolean } | { ok: false; refusal: CallerRefusal };

type KeyLookup = Awaited<ReturnType<typeof lookupKey>>;
const lookupKey = (ctx: ActionCtx, hash: string) => ctx.runQuery(internal.apiKeys.callers.lookup, { hash });

/**
 * The same decision as lib/apiKeys.ts authenticateKeyHash, on the query's read: unknown key,
 * revoked or expired or past its grace (at `now`), account gone; and whether the key's
 * last use must be recorded.
 */
function decideKey(found: KeyLookup, now: number): Decision {
  if (!found.found) return { ok: false, refusal: { reason: "unknown_key" } };
  if (keyStatus(found, now) === "revoked") return { ok: false, refusal: { reason: "key_revoked", prefix: found.prefix } };
  if (found.suspendedAt !== undefined) return { ok: false, refusal: { reason: "key_suspended", prefix: found.prefix } };
  if (found.account === null) return { ok: false, refusal: { reason: "account_missing" } };
  const stale = found.lastUsedAt === undefined || now - found.lastUsedAt > LAST_USED_STALE_MS;
  return { ok: true, caller: { keyId: found.keyId, ...found.account }, stale };
}

type TokenLookup = Awaited<ReturnType<typeof lookupToken>>;
const lookupToken = (ctx: ActionCtx, tokenHash: string) => ctx.runQuery(internal.apiKeys.callers.lookupToken, { tokenHash });

/** The same decision as lib/callerAuth.ts authenticateBearer for a token, on the query's read. */
function decideToken(found: TokenLookup, ip: string | undefined, now: number): Decision {
  const decided = tokenDecision(found, AI_SCOPE, now);
  if (!decided.ok) return decided;
  if (found.account === null) return { ok: false, refusal: { reason: "account_missing" } };
  const { grant } = decided;
  return {
    ok: true,
    caller: { ...found.account, grantId: grant.grantId, instanceId: grant.instanceId },
    stale: grantUseDue(grant, ip, now),
  };
}

type CredentialLookup = Awaited<ReturnType<typeof lookupCredential>>;
const lookupCredential = (ctx: ActionCtx, kind: "provider_credential" | "session_token", hash: string) =>
  ctx.runQuery(internal.credentials.callers.lookup, { kind, hash });

/** The same decision as lib/callerAuth.ts authenticateBearer for a credential or session token. */
function decideCredential(kind: "provider_credential" | "session_token", found: CredentialLookup, now: number): Decision {
  const decided = decideBearer(kind, found.found ? found : null, now);
  if (!decided.ok) return decided;
  if (!found.found || found.account === null) return { ok: false, refusal: { reason: "account_missing" } };
  // Nothing to record: credentials carry no last-use stamp, so never stale.
  const credentialScope = found.kind === "provider_credential" ? { provider: found.row.provider, scopes: [...found.row.scopes] } : undefined;
  return { ok: true, caller: { ...found.account, ...(credentialScope && { credentialScope }) }, stale: false };
}

async function decide(ctx: ActionCtx, secret: BearerSecret, ip: string | undefined, now: number): Promise<Decision> {
  if (secret.kind === "provider_credential" || secret.kind === "session_token") {
    return decideCredential(secret.kind, await lookupCredential(ctx, secret.kind, secret.hash), now);
  }
  return secret.kind === "api_key"
    ? decideKey(await lookupKey(ctx, secret.hash), now)
    : decideToken(await lookupToken(ctx, secret.hash), ip, now);
}

/** The mutation that re-checks the secret in its transaction and records its use. */
async function recordUse(ctx: ActionCtx, secret: BearerSecret, ip: string | undefined, caller: Caller): Promise<{ ok: true; caller: Caller } | { ok: false; refusal: CallerRefusal }> {
  if (secret.kind === "api_key") {
    const result = await ctx.runMutation(internal.apiKeys.callers.authenticate, { hash: secret.hash, ip });
    if (!result.ok) return result;
    const { ok: _ok, ...fresh } = result;
    return { ok: true, caller: fresh };
  }
  const result = await ctx.runMutation(internal.oauth.tokens.authenticate, { tokenHash: secret.hash, ip });
  if (!result.ok) return { ok: false, refusal: { reason: "token_invalid", why: result.reason } };
  // Revoked or narrowed between the query and this mutation: the mutation's answer wins.
  if (!result.scopes.includes(AI_SCOPE)) return { ok: false, refusal: { reason: "insufficient_scope", scope: AI_SCOPE } };
  return { ok: true, caller };
}

export async function authenticateCaller(
  ctx: ActionCtx,
  request: Request,
): Promise<{ ok: true; caller: Caller } | { ok: false; response: Response }> {
  const bearer = await bearerSecretOf(request);
  if (!bearer.ok) return bearer;
  const ip = clientIp(request);
  const decision = await decide(ctx, bearer.secret, ip, Date.now());
  if (!decision.ok) return { ok: false, response: refusalResponse(decision.refusal) };
  if (!decision.stale) return { ok: true, caller: decision.caller };
  // Stale last use: the mutation re-checks in its transaction and records the use.
  const recorded = await recordUse(ctx, bearer.secret, ip, decision.caller);
  if (!recorded.ok) return { ok: false, response: refusalResponse(recorded.refusal) };
  return { ok: true, caller: recorded.caller };
}
