// Key authentication for OpenAI-shaped endpoints that call no provider (/v1/models and the
// Dex API): the Bearer key's hash -> apiKeys.callers.authenticate -> the caller, or the
// refusal in the same words the metered endpoints use.
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { AccountState } from "../model/accounts/accountState";
import type { PlanId } from "../model/plans";
import { refusalResponse } from "./refusals";
import { clientIp, keyHashOf } from "./request";

export interface Caller {
  userId: Id<"users">;
  keyId: Id<"apiKeys">;
  plan: PlanId;
  state: AccountState;
}

export async function authenticateCaller(
  ctx: ActionCtx,
  request: Request,
): Promise<{ ok: true; caller: Caller } | { ok: false; response: Response }> {
  const key = await keyHashOf(request);
  if (!key.ok) return key;
  const result = await ctx.runMutation(internal.apiKeys.callers.authenticate, { hash: key.hash, ip: clientIp(request) });
  if (!result.ok) return { ok: false, response: refusalResponse(result.refusal) };
  const { ok: _ok, ...caller } = result;
  return { ok: true, caller };
}
