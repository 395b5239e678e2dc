// The front half of every metered request: key -> hash -> one `quota.begin` mutation.
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { bearerToken, hashSecret } from "../model/apiKeyTokens";
import { clientIp, errorResponse, instanceIdOf, unauthorized } from "./respond";

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
  args: {
    requestId: string;
    kind: "chat" | "embedding" | "speech" | "completion";
    model: string;
    promptTokens: number;
    requestedMaxOutput: number | null;
    choices: number;
    characters: number;
  },
): Promise<AdmissionResult> {
  const secret = bearerToken(request.headers.get("authorization"));
  if (secret === null) return { ok: false, response: unauthorized() };
  const result = await ctx.runMutation(internal.quota.begin, {
    keyHash: await hashSecret(secret),
    ip: clientIp(request),
    ...args,
  });
  const base = { "x-request-id": args.requestId };
  if (!result.ok) {
    const headers: Record<string, string> = { ...base };
    if (result.retryAfterSeconds !== undefined) headers["retry-after"] = String(result.retryAfterSeconds);
    // The OpenAI SDK retries 429s unless told not to; a spent quota will not recover in seconds.
    if (result.shouldRetry === false) headers["x-should-retry"] = "false";
    if (result.rate) Object.assign(headers, rateHeaders(result.rate));
    if (result.retryAfterSeconds !== undefined && result.rate) {
      headers[result.type === "tokens" ? "x-ratelimit-reset-tokens" : "x-ratelimit-reset-requests"] =
        `${result.retryAfterSeconds}s`;
    }
    return {
      ok: false,
      response: errorResponse(
        result.status,
        { message: result.message, type: result.type, param: result.param, code: result.code },
        headers,
      ),
    };
  }
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

function rateHeaders(rate: {
  limitRequests: number;
  remainingRequests: number;
  limitTokens: number;
  remainingTokens: number;
}): Record<string, string> {
  // Token buckets refill linearly over a minute: the time until full is the used share of it.
  const refill = (limit: number, remaining: number) =>
    `${limit > 0 ? Math.ceil(((limit - Math.min(limit, remaining)) / limit) * 60) : 0}s`;
  return {
    "x-ratelimit-limit-requests": String(rate.limitRequests),
    "x-ratelimit-remaining-requests": String(rate.remainingRequests),
    "x-ratelimit-reset-requests": refill(rate.limitRequests, rate.remainingRequests),
    "x-ratelimit-limit-tokens": String(rate.limitTokens),
    "x-ratelimit-remaining-tokens": String(rate.remainingTokens),
    "x-ratelimit-reset-tokens": refill(rate.limitTokens, rate.remainingTokens),
  };
}
