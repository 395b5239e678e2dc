/**
 * Anthropic's Messages API (`POST /v1/messages`), close enough to the wire that the proxy's
 * translation (and Anthropic's SDK) work against it unchanged: `x-api-key` and
 * `anthropic-version` checks, JSON and SSE replies with Anthropic's event types, tool use,
 * stop sequences, prompt caching through `cache_control`, and Anthropic's error JSON.
 * Token counts are a pure function of the request (see `messagesUsage`) so tests can predict
 * them exactly; the formulas are in dev/simulator/README.md.
 */
import { randomBytes } from "node:crypto";
import { bearerKey, errorMessage, tokenInterval, writeSse } from "./aiCommon.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { perStateStore } from "./state.ts";
import {
  fnv1a,
  placeholderArguments,
  planCompletion,
  textTokens,
  TOKENS_PER_MESSAGE,
  TOKENS_PER_NON_TEXT_PART,
  TOKENS_PER_TOOL_CALL,
  type ChatMessageLike,
} from "./tokens.ts";

export const ANTHROPIC_MODELS: readonly string[] = ["claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1"];

/** Tokens of the hidden system prompt Anthropic adds when tools are given (its published figures). */
export const TOOL_SYSTEM_TOKENS = { auto: 346, forced: 313 } as const;
/** A cache breakpoint over fewer prompt tokens than this caches nothing (Anthropic's minimum). */
export const CACHE_MIN_TOKENS = 1024;
/** Every request pays this for the reply's priming, like the OpenAI formula. */
export const PRIMING_TOKENS = 3;

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

export function anthropicErrorType(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? "api_error" : "invalid_request_error");
}

export const anthropicFormat: ProviderFormat = {
  name: "anthropic",
  renderError(error) {
    return {
      body: {
        type: "error",
        error: { type: error.details.type ?? anthropicErrorType(error.status), message: errorMessage(error) },
      },
      headers: error.details.headers,
    };
  },
};

function invalid(message: string, status = 400): SimHttpError {
  return new SimHttpError(status, message, { type: anthropicErrorType(status) });
}

/**
 * `x-api-key` (what the Messages API has always taken), or `Authorization: Bearer` (what
 * Anthropic's SDK sends since its 1.x releases); either way any key not ending in -invalid.
 */
function authorize(ctx: RouteContext): void {
  const header = ctx.req.headers["x-api-key"];
  const key = typeof header === "string" && header !== "" ? header : bearerKey(ctx);
  if (key === "") throw invalid("x-api-key header is required", 401);
  if (key.endsWith("-invalid")) throw invalid("invalid x-api-key", 401);
  if (typeof ctx.req.headers["anthropic-version"] !== "string") throw invalid("anthropic-version: header is required");
}

type Block = Record<string, unknown> & { type: string };

export interface MessagesRequest {
  model: string;
  max_tokens: number;
  messages: readonly { role: string; content: unknown }[];
  system?: unknown;
  tools?: readonly { name: string; description?: string; input_schema?: unknown; cache_control?: unknown }[];
  tool_choice?: { type: string; name?: string; disable_parallel_tool_use?: boolean };
  stop_sequences?: readonly string[];
  stream?: boolean;
}

function blocksOf(content: unknown): Block[] {
  if (typeof content === "string") return [{ type: "text", text: content }];
  return Array.isArray(content) ? (content as Block[]) : [];
}

function toolResultText(block: Block): string {
  return typeof block.content === "string" ? block.content : blocksOf(block.content).map((b) => String(b.text ?? "")).join("");
}

/** Prompt tokens of one content block. */
export function blockTokens(block: Block): number {
  switch (block.type) {
    case "text":
      return textTokens(String(block.text ?? ""));
    case "tool_use":
      return textTokens(String(block.name ?? "")) + textTokens(JSON.stringify(block.input ?? {}));
    case "tool_result":
      return textTokens(toolResultText(block));
    default:
      return TOKENS_PER_NON_TEXT_PART;
  }
}

/**
 * The prompt in Anthropic's cache order (tools, system, messages) as segments of tokens, each
 * marked when it carries a `cache_control` breakpoint.
 */
function promptSegments(request: MessagesRequest): { tokens: number; breakpoint: boolean; key: string }[] {
  const segments: { tokens: number; breakpoint: boolean; key: string }[] = [{ tokens: PRIMING_TOKENS, breakpoint: false, key: "priming" }];
  const tools = request.tools ?? [];
  if (tools.length > 0) {
    const forced = request.tool_choice?.type === "any" || request.tool_choice?.type === "tool";
    segments.push({ tokens: forced ? TOOL_SYSTEM_TOKENS.forced : TOOL_SYSTEM_TOKENS.auto, breakpoint: false, key: "tool-system" });
    tools.forEach((tool) => {
      const { cache_control: cc, ...definition } = tool;
      segments.push({ tokens: textTokens(JSON.stringify(definition)), breakpoint: cc !== undefined, key: JSON.stringify(definition) });
    });
  }
  for (const block of blocksOf(request.system)) {
    segments.push({ tokens: blockTokens(block), breakpoint: block.cache_control !== undefined, key: `system:${String(block.text ?? "")}` });
  }
  request.messages.forEach((message) => {
    segments.push({ tokens: TOKENS_PER_MESSAGE, breakpoint: false, key: `role:${message.role}` });
    for (const block of blocksOf(message.content)) {
      const { cache_control: cc, ...rest } = block;
      segments.push({ tokens: blockTokens(block), breakpoint: cc !== undefined, key: JSON.stringify(rest) });
    }
  });
  return segments;
}

/**
 * prompt = 3 + tool system prompt (346, or 313 when tool_choice forces a tool) + each tool's
 * textTokens(JSON definition) + system blocks + per message (3 + its blocks). The cached
 * prefix runs to the last `cache_control` breakpoint: at least CACHE_MIN_TOKENS, it is a cache
 * write the first time the simulator sees it and a cache read afterwards.
 */
export function promptUsage(request: MessagesRequest, seen: (key: string) => boolean): {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  prefixKey: string | null;
} {
  const segments = promptSegments(request);
  const total = segments.reduce((s, x) => s + x.tokens, 0);
  const last = segments.map((s) => s.breakpoint).lastIndexOf(true);
  const prefixTokens = last < 0 ? 0 : segments.slice(0, last + 1).reduce((s, x) => s + x.tokens, 0);
  if (last < 0 || prefixTokens < CACHE_MIN_TOKENS) {
    return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, prefixKey: null };
  }
  const prefixKey = `${request.model}\u0000${fnv1a(segments.slice(0, last + 1).map((s) => s.key).join("\u0001"))}:${last}`;
  const hit = seen(prefixKey);
  return {
    input_tokens: total - prefixTokens,
    cache_creation_input_tokens: hit ? 0 : prefixTokens,
    cache_read_input_tokens: hit ? prefixTokens : 0,
    prefixKey,
  };
}

/** Anthropic turns as the chat messages the OpenAI simulator hashes, so replies are predictable. */
function asChatMessages(request: MessagesRequest): ChatMessageLike[] {
  return request.messages.map((m) => ({
    role: m.role,
    content: blocksOf(m.content).map((b) => (b.type === "text" ? String(b.text ?? "") : b.type === "tool_result" ? toolResultText(b) : "")).join(""),
  }));
}

export interface PlannedReply {
  content: Block[];
  /** What the stream sends: text pieces or argument fragments of the one block. */
  pieces: string[];
  stop_reason: "end_turn" | "max_tokens" | "stop_sequence" | "tool_use";
  stop_sequence: string | null;
  output_tokens: number;
}

/**
 * The reply: a tool call when tool_choice is `any` (the first tool) or `tool` (that tool),
 * else text from the OpenAI simulator's planCompletion over the same turns (one token per
 * word). A stop sequence cuts the text before it (output counts the words generated up to and
 * including the one that completed it); max_tokens cuts with `max_tokens`. A tool call costs
 * 3 + textTokens(name) + textTokens(JSON input) and stops with `tool_use` (or `max_tokens` if
 * that exceeds max_tokens, arguments cut to 4 characters per remaining token).
 */
export function planReply(request: MessagesRequest, options: { completionTokens?: number | null } = {}): PlannedReply {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  const tool = choice?.type === "any" ? tools[0] : choice?.type === "tool" ? tools.find((t) => t.name === choice.name) : undefined;
  if (tool) {
    const input = placeholderArguments(tool.input_schema);
    const args = JSON.stringify(input);
    const overhead = TOKENS_PER_TOOL_CALL + textTokens(tool.name);
    const full = overhead + textTokens(args);
    const kept = full <= request.max_tokens ? args : [...args].slice(0, Math.max(0, request.max_tokens - overhead) * 4).join("");
    const pieces: string[] = [];
    for (let i = 0; i < kept.length; i += 4) pieces.push(kept.slice(i, i + 4));
    const id = `toolu_sim${fnv1a(`${request.model}:${JSON.stringify(request.messages)}`).toString(36)}`;
    return {
      content: [{ type: "tool_use", id, name: tool.name, input: full <= request.max_tokens ? input : {} }],
      pieces,
      stop_reason: full <= request.max_tokens ? "tool_use" : "max_tokens",
      stop_sequence: null,
      output_tokens: Math.min(full, request.max_tokens),
    };
  }
  const plan = planCompletion({ model: request.model, messages: asChatMessages(request), max_tokens: request.max_tokens }, options);
  for (const stop of request.stop_sequences ?? []) {
    let text = "";
    for (let i = 0; i < plan.pieces.length; i++) {
      text += plan.pieces[i];
      const at = text.indexOf(stop);
      if (at >= 0) {
        const kept = text.slice(0, at);
        const pieces = plan.pieces.slice(0, i);
        const partial = kept.slice(pieces.join("").length);
        if (partial) pieces.push(partial);
        return { content: [{ type: "text", text: kept }], pieces, stop_reason: "stop_sequence", stop_sequence: stop, output_tokens: i + 1 };
      }
    }
  }
  return {
    content: [{ type: "text", text: plan.text }],
    pieces: plan.pieces,
    stop_reason: plan.finishReason === "length" ? "max_tokens" : "end_turn",
    stop_sequence: null,
    output_tokens: plan.completionTokens,
  };
}

/** The exact `usage` the simulator reports for a request (prompt cache state given by `seen`). */
export function messagesUsage(request: MessagesRequest, options: { completionTokens?: number | null; seen?: (key: string) => boolean } = {}) {
  const { prefixKey: _key, ...prompt } = promptUsage(request, options.seen ?? (() => false));
  return { ...prompt, output_tokens: planReply(request, options).output_tokens };
}

const promptCache = perStateStore(() => ({ keys: new Set<string>() }));

function parseRequest(body: Record<string, unknown>): MessagesRequest {
  if (typeof body.model !== "string" || body.model === "") throw invalid("model: Field required");
  if (!ANTHROPIC_MODELS.includes(body.model)) throw new SimHttpError(404, `model: ${body.model}`, { type: "not_found_error" });
  if (typeof body.max_tokens !== "number" || !Number.isInteger(body.max_tokens) || body.max_tokens < 1) {
    throw invalid("max_tokens: Field required (an integer >= 1)");
  }
  if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid("messages: at least one message is required");
  body.messages.forEach((m, i) => {
    const role = (m as { role?: unknown })?.role;
    if (role !== "user" && role !== "assistant") throw invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    const content = (m as { content?: unknown }).content;
    if (typeof content !== "string" && !Array.isArray(content)) throw invalid(`messages.${i}.content: Input should be a valid string or list`);
    for (const block of blocksOf(content)) {
      if (block.type === "text" && (typeof block.text !== "string" || block.text === "")) {
        throw invalid(`messages.${i}.content: text content blocks must be non-empty`);
      }
    }
  });
  if (body.temperature !== undefined && (typeof body.temperature !== "number" || body.temperature < 0 || body.temperature > 1)) {
    throw invalid("temperature: Input should be less than or equal to 1");
  }
  if (body.stop_sequences !== undefined && !(Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === "string"))) {
    throw invalid("stop_sequences: Input should be a valid list of strings");
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) throw invalid("tools: Input should be a valid list");
    body.tools.forEach((t, i) => {
      if (typeof (t as { name?: unknown })?.name !== "string") throw invalid(`tools.${i}.name: Field required`);
    });
  }
  const choice = body.tool_choice as MessagesRequest["tool_choice"];
  if (choice !== undefined) {
    if (!["auto", "any", "tool", "none"].includes(String(choice?.type))) throw invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'");
    if (choice.type === "tool" && !(body.tools as MessagesRequest["tools"] ?? []).some((t) => t.name === choice.name)) {
      throw invalid(`tool_choice: tool '${String(choice.name)}' not found in tools`);
    }
  }
  return body as unknown as MessagesRequest;
}

function newId(prefix: string): string {
  return `${prefix}_sim${randomBytes(9).toString("base64url")}`;
}

/** Anthropic's SSE framing: `event: <type>` and `data: <json>` per event. */
function eventFrame(data: Record<string, unknown>): string {
  return `event: ${String(data.type)}\ndata: ${JSON.stringify(data)}\n\n`;
}

async function messages(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const request = parseRequest(ctx.json());
  const cache = promptCache(ctx.state).keys;
  const prompt = promptUsage(request, (key) => cache.has(key));
  if (prompt.prefixKey) cache.add(prompt.prefixKey);
  const reply = planReply(request, { completionTokens: ctx.overrides.completionTokens ?? ctx.state.config.completionTokens });
  const usage = {
    input_tokens: prompt.input_tokens,
    cache_creation_input_tokens: prompt.cache_creation_input_tokens,
    cache_read_input_tokens: prompt.cache_read_input_tokens,
    output_tokens: reply.output_tokens,
    service_tier: "standard",
  };
  const interval = tokenInterval(ctx);
  const id = newId("msg");
  if (request.stream !== true) {
    if (!(await ctx.sleep(interval * reply.output_tokens))) return;
    sendJson(ctx.res, 200, {
      id, type: "message", role: "assistant", model: request.model, content: reply.content,
      stop_reason: reply.stop_reason, stop_sequence: reply.stop_sequence, usage,
    }, { "request-id": ctx.requestId });
    return;
  }
  const block = reply.content[0];
  const isTool = block.type === "tool_use";
  const events: { data: Record<string, unknown>; delayMs: number }[] = [
    {
      data: {
        type: "message_start",
        message: {
          id, type: "message", role: "assistant", model: request.model, content: [], stop_reason: null, stop_sequence: null,
          usage: { ...usage, output_tokens: 1 },
        },
      },
      delayMs: 0,
    },
    { data: { type: "content_block_start", index: 0, content_block: isTool ? { ...block, input: {} } : { type: "text", text: "" } }, delayMs: 0 },
    { data: { type: "ping" }, delayMs: 0 },
    ...(isTool ? [{ data: { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "" } }, delayMs: 0 }] : []),
    ...reply.pieces.map((piece) => ({
      data: {
        type: "content_block_delta",
        index: 0,
        delta: isTool ? { type: "input_json_delta", partial_json: piece } : { type: "text_delta", text: piece },
      },
      delayMs: interval,
    })),
    { data: { type: "content_block_stop", index: 0 }, delayMs: 0 },
    {
      data: { type: "message_delta", delta: { stop_reason: reply.stop_reason, stop_sequence: reply.stop_sequence }, usage: { output_tokens: reply.output_tokens } },
      delayMs: 0,
    },
    { data: { type: "message_stop" }, delayMs: 0 },
  ];
  await writeSse(ctx, events, eventFrame);
}

export const anthropicRoutes: Route[] = [
  { method: "POST", path: /^\/v1\/messages$/, provider: anthropicFormat, handle: messages },
];
