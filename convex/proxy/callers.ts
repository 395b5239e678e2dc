// Key authentication for OpenAI-shaped endpoints that call no provider (/v1/models and the
// Dex API): the Bearer key's hash -> the caller, or the refusal in the same words the metered
// endpoints use. One cached query per request (apiKeys.callers.lookup); the mutation that
// records the key's last use runs only when that record is stale (once a minute per key).
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { LAST_USED_STALE_MS } from "../lib/apiKeys";
import type { AccountState } from "../model/accounts/accountState";
import { keyStatus } from "../model/apiKeyStatus";
import type { PlanId } from "../model/plans";
import type { KeyRefusal } from "../model/quota/admission";
import { refusalResponse } from "./refusals";
import { clientIp, keyHashOf } from "./request";

export interface Caller {
  userId: Id<"users">;
  keyId: Id<"apiKeys">;
  plan: PlanId;
  state: AccountState;
}

type Lookup = Awaited<ReturnType<typeof lookupKey>>;
const lookupKey = (ctx: ActionCtx, hash: string) => ctx.runQuery(internal.apiKeys.callers.lookup, { hash });

/**
 * The same decision as lib/apiKeys.ts authenticateKeyHash, on the query's read: unknown key,
 * revoked or expired or past its grace (at `now`), account gone; and whether the key's
 * last use must be recorded.
 */
function decide(found: Lookup, now: number): { ok: true; caller: Caller; stale: boolean } | { ok: false; refusal: KeyRefusal } {
  if (!found.found) return { ok: false, refusal: { reason: "unknown_key" } };
  if (keyStatus(found, now) === "revoked") return { ok: false, refusal: { reason: "key_revoked", prefix: found.prefix } };
  if (found.account === null) return { ok: false, refusal: { reason: "account_missing" } };
  const stale = found.lastUsedAt === undefined || now - found.lastUsedAt > LAST_USED_STALE_MS;
  return { ok: true, caller: { keyId: found.keyId, ...found.account }, stale };
}

export async function authenticateCaller(
  ctx: ActionCtx,
  request: Request,
): Promise<{ ok: true; caller: Caller } | { ok: false; response: Response }> {
  const key = await keyHashOf(request);
  if (!key.ok) return key;
  const decision = decide(await lookupKey(ctx, key.hash), Date.now());
  if (!decision.ok) return { ok: false, response: refusalResponse(decision.refusal) };
  if (!decision.stale) return { ok: true, caller: decision.caller };
  // Stale last use: the mutation re-checks the key in its transaction and records the use.
  const result = await ctx.runMutation(internal.apiKeys.callers.authenticate, { hash: key.hash, ip: clientIp(request) });
  if (!result.ok) return { ok: false, response: refusalResponse(result.refusal) };
  const { ok: _ok, ...caller } = result;
  return { ok: true, caller };
}
