// The front half of every metered request: the key's hash -> one `quota.ledger.begin`
// mutation -> a grant, or the refusal in OpenAI's words.
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { RequestShape } from "../model/quota/admission";
import { refusalResponse, rateHeaders } from "./refusals";
import { clientIp, instanceIdOf } from "./request";

export interface Grant {
  requestId: string;
  userId: Id<"users">;
  apiKeyId: Id<"apiKeys">;
  instanceId?: string;
  holdTokens: number;
  maxOutputTokens: number;
  headers: Record<string, string>;
}

export type AdmissionResult = { ok: true; grant: Grant } | { ok: false; response: Response };

export async function admitRequest(
  ctx: ActionCtx,
  request: Request,
  args: RequestShape & { keyHash: string; requestId: string },
): Promise<AdmissionResult> {
  const result = await ctx.runMutation(internal.quota.ledger.begin, { ...args, ip: clientIp(request) });
  const base = { "x-request-id": args.requestId };
  if (!result.ok) return { ok: false, response: refusalResponse(result.refusal, { headers: base, rate: result.rate }) };
  return {
    ok: true,
    grant: {
      requestId: args.requestId,
      userId: result.userId,
      apiKeyId: result.apiKeyId,
      instanceId: instanceIdOf(request),
      holdTokens: result.holdTokens,
      maxOutputTokens: result.maxOutputTokens,
      headers: { ...base, ...rateHeaders(result.rate) },
    },
  };
}
