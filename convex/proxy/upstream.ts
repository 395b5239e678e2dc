// The back half of every metered request: call the provider, map its failures to our
// errors, and settle the hold exactly once.
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { UsageKind } from "../model/quota/admission";
import { UPSTREAM_DEADLINE_MS } from "../model/quota/holds";
import { NO_USAGE, type NormalizedUsage } from "../model/usage/totals";
import { openai } from "../providers/ai/openai";
import { type AiProvider, UpstreamUnavailableError } from "../providers/ai/types";
import type { Grant } from "./admission";
import { errorResponse, jsonResponse } from "./respond";

export const provider: AiProvider = openai;

export interface SettleInput {
  kind: UsageKind;
  model: string;
  usage: NormalizedUsage;
  usageSource: "provider" | "estimate";
  status: "ok" | "client_abandoned" | "upstream_error";
  httpStatus: number;
  startedAt: number;
}

/** Attempts at settling: the mutation is idempotent by request id, so retrying is safe. */
const SETTLE_ATTEMPTS = 3;

export async function settle(ctx: ActionCtx, grant: Grant, input: SettleInput): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await settleOnce(ctx, grant, input);
    } catch (e) {
      // The work upstream is done and must be billed; a transient failure gets a retry.
      if (attempt >= SETTLE_ATTEMPTS) throw e;
      await new Promise((r) => setTimeout(r, 100 * attempt));
    }
  }
}

async function settleOnce(ctx: ActionCtx, grant: Grant, input: SettleInput): Promise<number> {
  const { costMicros } = await ctx.runMutation(internal.quota.ledger.settle, {
    requestId: grant.requestId,
    userId: grant.userId,
    apiKeyId: grant.apiKeyId,
    instanceId: grant.instanceId,
    kind: input.kind,
    provider: provider.id,
    model: input.model,
    tokensIn: input.usage.tokensIn,
    cachedTokensIn: input.usage.cachedTokensIn,
    tokensOut: input.usage.tokensOut,
    characters: input.usage.characters,
    usageSource: input.usageSource,
    status: input.status,
    httpStatus: input.httpStatus,
    latencyMs: Date.now() - input.startedAt,
  });
  return costMicros;
}

export type UpstreamResult = { ok: true; response: Response } | { ok: false; response: Response };

/**
 * Sends the request upstream. A failure before the provider accepted the work releases the
 * hold (nothing was consumed: providers do not bill refused requests) and answers with
 * OpenAI's error shape: 4xx from the provider pass through, its 5xx become 502, its 429 and
 * overload become 503, an unreachable provider is 502.
 */
export async function callUpstream(
  ctx: ActionCtx,
  grant: Grant,
  opts: { kind: UsageKind; model: string; path: string; body: unknown; startedAt: number },
): Promise<UpstreamResult> {
  let res: Response;
  try {
    res = await provider.send({
      path: opts.path,
      method: "POST",
      body: opts.body,
      signal: deadlineSignal(UPSTREAM_DEADLINE_MS),
    });
  } catch (e) {
    await settleFailure(ctx, grant, opts, 502);
    const message = e instanceof UpstreamUnavailableError ? e.message : "The AI provider could not be reached.";
    return {
      ok: false,
      response: errorResponse(502, { message, type: "upstream_error", code: "upstream_unreachable" }, grant.headers),
    };
  }
  if (res.ok) return { ok: true, response: res };

  const text = await res.text().catch(() => "");
  if (res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 401 && res.status !== 403) {
    // The caller's request was invalid upstream (bad parameter, context too long): pass it on.
    await settleFailure(ctx, grant, opts, res.status);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = null;
    }
    if (body && typeof body === "object" && "error" in body) return { ok: false, response: jsonResponse(res.status, body, grant.headers) };
    return {
      ok: false,
      response: errorResponse(res.status, { message: text.slice(0, 500) || "The AI provider refused the request.", type: "invalid_request_error" }, grant.headers),
    };
  }
  // Our credentials or capacity upstream, not the caller's fault.
  const status = res.status === 429 || res.status === 503 ? 503 : 502;
  await settleFailure(ctx, grant, opts, status);
  const headers = { ...grant.headers, ...(status === 503 ? { "retry-after": res.headers.get("retry-after") ?? "2" } : {}) };
  return {
    ok: false,
    response: errorResponse(status, {
      message: status === 503
        ? "The AI provider is overloaded right now; retry shortly."
        : `The AI provider failed (HTTP ${res.status}); retry shortly.`,
      type: status === 503 ? "service_unavailable" : "upstream_error",
      code: status === 503 ? "upstream_overloaded" : "upstream_error",
    }, headers),
  };
}

async function settleFailure(
  ctx: ActionCtx,
  grant: Grant,
  opts: { kind: UsageKind; model: string; startedAt: number },
  httpStatus: number,
) {
  await settle(ctx, grant, {
    kind: opts.kind,
    model: opts.model,
    usage: NO_USAGE,
    usageSource: "provider",
    status: "upstream_error",
    httpStatus,
    startedAt: opts.startedAt,
  });
}

/** Aborts the upstream call (body included) before the request's hold can expire. */
function deadlineSignal(ms: number): AbortSignal {
  if (typeof AbortSignal.timeout === "function") return AbortSignal.timeout(ms);
  const controller = new AbortController();
  setTimeout(() => controller.abort(new Error(`The AI provider took longer than ${ms} ms.`)), ms);
  return controller.signal;
}
