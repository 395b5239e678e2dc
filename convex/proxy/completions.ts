// POST /v1/completions: OpenAI's legacy text completions (gpt-3.5-turbo-instruct), JSON and
// SSE, metered like chat: held at the prompt's upper bound plus the output it may produce,
// settled at the provider's count.
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { estimateEmbeddingInputTokens, utf8Bytes } from "../model/proxy/estimate";
import type { AiProvider, ProviderUsage } from "../providers/ai/types";
import { admitRequest, type Grant } from "./admission";
import { routeModel } from "./availability";
import { streamToClient } from "./chat";
import { requestIdOf } from "../lib/requestId";
import { positiveInt, readModelRequest } from "./request";
import { badRequest, withOpenAiErrors } from "./respond";
import { answerThenSettle, callUpstream, readReply } from "./upstream";

/** OpenAI's default max_tokens on this endpoint: a request without one gets 16 tokens, not the plan's default. */
export const LEGACY_DEFAULT_MAX_TOKENS = 16;
const MAX_CHOICES = 16;

/** How many prompts a `prompt` holds: a string or token array is one, an array of them is each. */
function promptCount(prompt: unknown): number {
  if (typeof prompt === "string") return 1;
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((p) => typeof p === "number")) return 1;
  return Array.isArray(prompt) ? prompt.length : 0;
}

async function completionsHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const startedAt = Date.now();
  const opened = await readModelRequest(request);
  if (!opened.ok) return opened.response;
  const { secret, body, model } = opened;

  // Strings by bytes, token arrays exactly: the same bound as embeddings inputs.
  const promptTokens = estimateEmbeddingInputTokens(body.prompt);
  if (promptTokens === null) {
    return badRequest("'prompt' must be a string, an array of strings, or token arrays, and not empty.", "prompt", "missing_required_parameter");
  }
  if (body.stream !== undefined && typeof body.stream !== "boolean") return badRequest("'stream' must be a boolean.", "stream");
  if (body.stream_options !== undefined && (typeof body.stream_options !== "object" || body.stream_options === null)) {
    return badRequest("'stream_options' must be an object.", "stream_options");
  }
  const n = positiveInt(body.n);
  if (n === "invalid" || (n !== null && n > MAX_CHOICES)) return badRequest(`'n' must be an integer from 1 to ${MAX_CHOICES}.`, "n");
  const bestOf = positiveInt(body.best_of);
  if (bestOf === "invalid" || (bestOf !== null && bestOf > MAX_CHOICES)) return badRequest(`'best_of' must be an integer from 1 to ${MAX_CHOICES}.`, "best_of");
  const requestedMax = positiveInt(body.max_tokens);
  if (requestedMax === "invalid") return badRequest("'max_tokens' must be a positive integer.", "max_tokens");

  const routed = await routeModel(ctx, request, model, "completion");
  if (!routed.ok) return routed.response;

  // best_of completions are generated (and billed) server-side for each prompt; n are returned.
  const choices = promptCount(body.prompt) * Math.max(n ?? 1, bestOf ?? 1);
  const admission = await admitRequest(ctx, request, {
    secret,
    requestId: requestIdOf(request),
    kind: "completion",
    model,
    promptTokens,
    requestedMaxOutput: requestedMax ?? LEGACY_DEFAULT_MAX_TOKENS,
    choices,
    characters: 0,
  });
  if (!admission.ok) return admission.response;
  const grant = admission.grant;

  const stream = body.stream === true;
  const clientOptions = (body.stream_options ?? {}) as Record<string, unknown>;
  const upstreamBody: Record<string, unknown> = { ...body, max_tokens: grant.maxOutputTokens };
  if (stream) upstreamBody.stream_options = { ...clientOptions, include_usage: true };

  const upstream = await callUpstream(ctx, grant, { kind: "completion", model, path: "/completions", body: upstreamBody, startedAt });
  if (!upstream.ok) return upstream.response;
  // The deployment that answered (the model's provider, or where it failed over) reads the reply.
  const provider = upstream.provider;
  const maxOutputTokens = grant.maxOutputTokens * choices;
  if (!stream) return await finishJson(ctx, grant, upstream.response, { model, promptTokens, startedAt, maxOutputTokens, provider });
  // The chat relay: an abandoned stream is still billed at the provider's count, a broken one
  // by estimate (one token per text chunk) with an error event to the client.
  return streamToClient(ctx, grant, upstream.response, {
    kind: "completion", model, promptTokens, startedAt, maxOutputTokens, provider, translator: null,
    clientWantsUsage: clientOptions.include_usage === true,
  });
}

export const completions = httpAction(withOpenAiErrors(completionsHandler));

async function finishJson(
  ctx: ActionCtx,
  grant: Grant,
  res: Response,
  opts: { model: string; promptTokens: number; startedAt: number; maxOutputTokens: number; provider: AiProvider },
): Promise<Response> {
  const { bytes, text } = await readReply(res);
  let json: { usage?: unknown; choices?: Array<{ text?: unknown }> } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  let usage: ProviderUsage | null = opts.provider.translateUsageMetrics(json?.usage);
  let usageSource: "provider" | "estimate" = "provider";
  if (usage === null) {
    // No usage from the provider: bill the prompt bound and the output's bytes (also a bound).
    const outBytes = (json?.choices ?? []).reduce((s, c) => s + (typeof c?.text === "string" ? utf8Bytes(c.text) : 0), 0);
    usage = { tokensIn: opts.promptTokens, cachedTokensIn: 0, tokensOut: Math.min(outBytes, opts.maxOutputTokens), characters: 0 };
    usageSource = "estimate";
  }
  return answerThenSettle(ctx, grant, bytes, "application/json", { kind: "completion", model: opts.model, usage, usageSource, startedAt: opts.startedAt });
}
