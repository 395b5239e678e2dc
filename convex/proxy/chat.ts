// POST /v1/chat/completions: JSON and SSE streaming, metered with hold -> settle. OpenAI and
// Gemini (OpenAI-compatible) models are relayed as they are; Anthropic models are translated
// to the Messages API and back (model/proxy/anthropic.ts), streams included.
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import {
  AnthropicStreamTranslator,
  fromAnthropicMessage,
  holdAllowance,
  toAnthropicRequest,
  TranslationError,
} from "../model/proxy/anthropic";
import { estimateChatPromptTokens, IMAGE_PART_TOKENS, utf8Bytes } from "../model/proxy/estimate";
import { StreamRelay } from "../model/proxy/streamRelay";
import type { AiProvider, ProviderUsage } from "../providers/ai/types";
import { admitRequest, type Grant } from "./admission";
import { routeModel } from "./availability";
import { requestIdOf } from "../lib/requestId";
import { positiveInt, readModelRequest } from "./request";
import { badRequest, CORS_HEADERS, errorResponse, withOpenAiErrors } from "./respond";
import { answerThenSettle, callUpstream, readReply, settle } from "./upstream";

const MAX_CHOICES = 16;
const ENCODER = new TextEncoder();

async function chatCompletionsHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const startedAt = Date.now();
  const opened = await readModelRequest(request);
  if (!opened.ok) return opened.response;
  const { secret, body, model } = opened;

  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    return badRequest("'messages' must be a non-empty array of messages.", "messages", "missing_required_parameter");
  }
  if (body.stream !== undefined && typeof body.stream !== "boolean") {
    return badRequest("'stream' must be a boolean.", "stream");
  }
  if (body.stream_options !== undefined && (typeof body.stream_options !== "object" || body.stream_options === null)) {
    return badRequest("'stream_options' must be an object.", "stream_options");
  }
  const n = positiveInt(body.n);
  if (n === "invalid" || (n !== null && n > MAX_CHOICES)) {
    return badRequest(`'n' must be an integer from 1 to ${MAX_CHOICES}.`, "n");
  }
  const maxField = body.max_completion_tokens !== undefined || body.max_tokens === undefined
    ? "max_completion_tokens"
    : "max_tokens";
  const requestedMax = positiveInt(body[maxField]);
  if (requestedMax === "invalid") return badRequest(`'${maxField}' must be a positive integer.`, maxField);
  const legacyMax = positiveInt(body.max_tokens);
  if (legacyMax === "invalid") return badRequest("'max_tokens' must be a positive integer.", "max_tokens");

  const routed = await routeModel(ctx, request, model, "chat");
  if (!routed.ok) return routed.response;
  const provider = routed.provider;
  const viaAnthropic = provider?.id === "anthropic";
  // Translated before admission, so a request Anthropic cannot express is a 400 with no hold.
  let anthropicBody: Record<string, unknown> | null = null;
  if (viaAnthropic) {
    try {
      anthropicBody = toAnthropicRequest(body);
    } catch (e) {
      if (e instanceof TranslationError) return badRequest(e.message, e.param);
      throw e;
    }
  }

  const promptTokens = estimateChatPromptTokens(body as { messages: unknown[] }) +
    (viaAnthropic ? holdAllowance(body, IMAGE_PART_TOKENS) : 0);
  const requestId = requestIdOf(request);
  const admission = await admitRequest(ctx, request, {
    secret,
    requestId,
    kind: "chat",
    model,
    promptTokens,
    requestedMaxOutput: requestedMax,
    choices: n ?? 1,
    characters: 0,
  });
  if (!admission.ok) return admission.response;
  const grant = admission.grant;

  const stream = body.stream === true;
  const clientOptions = (body.stream_options ?? {}) as Record<string, unknown>;
  // Both limits sent: neither may let the output outgrow the hold.
  const upstreamMax = maxField === "max_completion_tokens" && legacyMax !== null
    ? Math.min(legacyMax, grant.maxOutputTokens)
    : grant.maxOutputTokens;
  let path = "/chat/completions";
  let upstreamBody: Record<string, unknown>;
  if (anthropicBody !== null) {
    // Anthropic requires max_tokens: the hold's maximum.
    path = "/messages";
    upstreamBody = { ...anthropicBody, max_tokens: upstreamMax };
  } else if (provider?.id === "gemini") {
    // Gemini's OpenAI-compatible endpoint documents max_tokens, not max_completion_tokens.
    const { max_completion_tokens: _newer, ...rest } = body;
    upstreamBody = { ...rest, max_tokens: upstreamMax };
  } else {
    upstreamBody = { ...body, [maxField]: grant.maxOutputTokens };
    if (maxField === "max_completion_tokens" && legacyMax !== null) upstreamBody.max_tokens = upstreamMax;
  }
  // Always ask for the usage chunk so a stream is billed at the provider's count (Anthropic
  // streams always end with their usage).
  if (stream && anthropicBody === null) upstreamBody.stream_options = { ...clientOptions, include_usage: true };

  const upstream = await callUpstream(ctx, grant, { kind: "chat", model, path, body: upstreamBody, startedAt });
  if (!upstream.ok) return upstream.response;
  // The deployment that answered (the model's provider, or where it failed over) reads the reply.
  const via = upstream.provider;

  const created = Math.floor(Date.now() / 1000);
  if (!stream) {
    return await finishJson(ctx, grant, upstream.response, {
      model, promptTokens, startedAt, choices: n ?? 1, provider: via, anthropicCreated: viaAnthropic ? created : null,
    });
  }
  return streamToClient(ctx, grant, upstream.response, {
    kind: "chat",
    model,
    promptTokens,
    startedAt,
    clientWantsUsage: clientOptions.include_usage === true,
    maxOutputTokens: grant.maxOutputTokens * (n ?? 1),
    provider: via,
    translator: viaAnthropic ? new AnthropicStreamTranslator({ created, model }) : null,
  });
}

export const chatCompletions = httpAction(withOpenAiErrors(chatCompletionsHandler));

async function finishJson(
  ctx: ActionCtx,
  grant: Grant,
  res: Response,
  opts: {
    model: string;
    promptTokens: number;
    startedAt: number;
    choices: number;
    provider: AiProvider;
    /** Set for an Anthropic reply, which is translated into a chat.completion created then. */
    anthropicCreated: number | null;
  },
): Promise<Response> {
  const reply = await readReply(res);
  let text = reply.text;
  // The provider's own bytes, unless the reply is translated below.
  let body: string | Uint8Array = reply.bytes;
  let json: { usage?: unknown; choices?: Array<{ message?: { content?: unknown } }> } | null = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  if (opts.anthropicCreated !== null) {
    try {
      json = fromAnthropicMessage(json, opts.anthropicCreated) as typeof json;
      text = JSON.stringify(json);
      body = text;
    } catch (e) {
      if (!(e instanceof TranslationError)) throw e;
      // Work was done upstream but its reply is unreadable: bill the bound, tell the client.
      await settle(ctx, grant, {
        kind: "chat", model: opts.model,
        usage: { tokensIn: opts.promptTokens, cachedTokensIn: 0, tokensOut: 0, characters: 0 },
        usageSource: "estimate", status: "upstream_error", httpStatus: 502, startedAt: opts.startedAt,
      });
      return errorResponse(502, { message: "The AI provider's reply could not be read.", type: "upstream_error", code: "upstream_bad_reply" }, grant.headers);
    }
  }
  let usage: ProviderUsage | null = opts.provider.translateUsageMetrics(json?.usage);
  let usageSource: "provider" | "estimate" = "provider";
  if (usage === null) {
    // No usage from the provider: bill the prompt bound and the output's bytes (also a bound).
    const outBytes = (json?.choices ?? []).reduce(
      (s, c) => s + (typeof c?.message?.content === "string" ? utf8Bytes(c.message.content) : 0),
      0,
    );
    usage = {
      tokensIn: opts.promptTokens,
      cachedTokensIn: 0,
      tokensOut: Math.min(outBytes, grant.maxOutputTokens * opts.choices),
      characters: 0,
    };
    usageSource = "estimate";
  }
  return answerThenSettle(ctx, grant, body, "application/json", { kind: "chat", model: opts.model, usage, usageSource, startedAt: opts.startedAt });
}

/**
 * Relays the upstream SSE stream through a StreamRelay. The pump is not driven by the client's
 * reads: if the client goes away we keep draining upstream so the hold settles at the
 * provider's own count; if the upstream dies midway we settle with the relay's estimate and
 * tell a still-connected client with an error event.
 */
export function streamToClient(
  ctx: ActionCtx,
  grant: Grant,
  upstream: Response,
  opts: {
    /** chat, or the legacy completions endpoint, which streams through the same relay. */
    kind: "chat" | "completion";
    model: string;
    promptTokens: number;
    startedAt: number;
    clientWantsUsage: boolean;
    maxOutputTokens: number;
    provider: AiProvider;
    /** Anthropic's events -> OpenAI's chunks, before the relay sees them. */
    translator: AnthropicStreamTranslator | null;
  },
): Response {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let clientGone = false;
  const out = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      clientGone = true;
    },
  });
  const send = (text: string) => {
    if (clientGone || text === "") return;
    try {
      controller.enqueue(ENCODER.encode(text));
    } catch {
      clientGone = true;
    }
  };
  const relay = new StreamRelay({
    clientWantsUsage: opts.clientWantsUsage,
    maxOutputTokens: opts.maxOutputTokens,
    readUsage: (raw) => opts.provider.translateUsageMetrics(raw),
  });
  const translate = (text: string) => (opts.translator ? opts.translator.push(text) : text);

  const pump = async () => {
    let broke = false;
    try {
      const reader = upstream.body?.getReader();
      if (!reader) throw new Error("The provider answered without a body.");
      const decoder = new TextDecoder();
      for (let read = await reader.read(); !read.done; read = await reader.read()) {
        send(relay.push(translate(decoder.decode(read.value, { stream: true }))));
      }
      send(relay.push(translate(decoder.decode()) + (opts.translator?.end() ?? "")) + relay.end());
    } catch {
      broke = true;
    }
    const outcome = relay.outcome(broke, opts.promptTokens);
    send(outcome.trailer);
    // An Anthropic stream that broke off: message_start told the exact prompt, and its text
    // deltas carry several tokens each, so the output is bounded by bytes instead.
    const usage: ProviderUsage = outcome.usageSource === "estimate" && opts.translator
      ? opts.translator.partialUsage(opts.promptTokens, opts.maxOutputTokens)
      : outcome.usage;
    try {
      await settle(ctx, grant, {
        kind: opts.kind,
        model: opts.model,
        usage,
        usageSource: outcome.usageSource,
        status: clientGone ? "client_abandoned" : outcome.completed ? "ok" : "upstream_error",
        httpStatus: 200,
        startedAt: opts.startedAt,
      });
    } finally {
      if (!clientGone) {
        try {
          controller.close();
        } catch {
          // Already closed by a cancel racing with the end of the stream.
        }
      }
    }
  };
  pump().catch((e) => {
    // The hold then expires on its own; log so the request can be reconciled by id.
    console.error(`stream ${grant.requestId} failed to settle`, e);
  });

  return new Response(out, {
    status: 200,
    headers: {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache",
      ...CORS_HEADERS,
      ...grant.headers,
    },
  });
}
