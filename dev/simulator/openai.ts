/**
 * OpenAI's REST API under /v1, close enough to the wire that the official `openai` SDK works
 * against it unchanged: chat completions (JSON and SSE), legacy completions, embeddings (float and
 * base64), models and audio speech, with OpenAI's error bodies and rate-limit headers.
 * Token counts come from ./tokens.ts so tests can predict them exactly.
 */
import { randomBytes } from "node:crypto";
import { speechAudio, SPEECH_CONTENT_TYPES, SPEECH_FORMATS, type SpeechFormat } from "./audio.ts";
import { bearerKey, dataFrame, recordServed, tokenInterval, writeSse, type SseEvent } from "./aiCommon.ts";
import { SimHttpError, sendBytes, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import type { SimulatorState } from "./state.ts";
import {
  cachedPromptTokens,
  chosenTool,
  embeddingInputTokens,
  fnv1a,
  mulberry32,
  planChoices,
  planCompletion,
  planToolCall,
  prefixKey,
  requestPromptTokens,
  textTokens,
  type ChatMessageLike,
  type ChatRequestLike,
  type ChatUsage,
  type PlannedCompletion,
  type PlannedToolCall,
} from "./tokens.ts";

type ModelKind = "chat" | "completion" | "embedding" | "speech";

interface ModelInfo {
  id: string;
  kind: ModelKind;
  created: number;
  owned_by: string;
  /** Embedding width when the caller does not ask for fewer `dimensions`. */
  dimensions?: number;
  /** Context window in tokens. */
  context: number;
}

export const OPENAI_MODELS: readonly ModelInfo[] = [
  { id: "gpt-4o", kind: "chat", created: 1715367049, owned_by: "system", context: 128_000 },
  { id: "gpt-4o-mini", kind: "chat", created: 1721172741, owned_by: "system", context: 128_000 },
  { id: "gpt-4.1", kind: "chat", created: 1744316542, owned_by: "system", context: 1_047_576 },
  { id: "gpt-4.1-mini", kind: "chat", created: 1744318173, owned_by: "system", context: 1_047_576 },
  { id: "gpt-4.1-nano", kind: "chat", created: 1744321707, owned_by: "system", context: 1_047_576 },
  { id: "gpt-5", kind: "chat", created: 1754425777, owned_by: "system", context: 400_000 },
  { id: "gpt-5-mini", kind: "chat", created: 1754425928, owned_by: "system", context: 400_000 },
  { id: "o3-mini", kind: "chat", created: 1737146383, owned_by: "system", context: 200_000 },
  { id: "o4-mini", kind: "chat", created: 1744225351, owned_by: "system", context: 200_000 },
  { id: "gpt-3.5-turbo", kind: "chat", created: 1677610602, owned_by: "openai", context: 16_385 },
  { id: "gpt-3.5-turbo-instruct", kind: "completion", created: 1692901427, owned_by: "system", context: 4_096 },
  { id: "text-embedding-3-small", kind: "embedding", created: 1705948997, owned_by: "system", dimensions: 1536, context: 8_192 },
  { id: "text-embedding-3-large", kind: "embedding", created: 1705953180, owned_by: "system", dimensions: 3072, context: 8_192 },
  { id: "text-embedding-ada-002", kind: "embedding", created: 1671217299, owned_by: "openai-internal", dimensions: 1536, context: 8_192 },
  { id: "tts-1", kind: "speech", created: 1681940951, owned_by: "openai-internal", context: 4_096 },
  { id: "tts-1-hd", kind: "speech", created: 1699046015, owned_by: "system", context: 4_096 },
  { id: "gpt-4o-mini-tts", kind: "speech", created: 1742403959, owned_by: "system", context: 2_000 },
];

const MODELS_BY_ID = new Map(OPENAI_MODELS.map((m) => [m.id, m]));

export const SPEECH_MAX_CHARACTERS = 4096;
export const MAX_CHOICES = 128;
export const EMBEDDING_MAX_INPUTS = 2048;
export const SPEECH_VOICES = ["alloy", "ash", "ballad", "coral", "echo", "fable", "onyx", "nova", "sage", "shimmer", "verse"];

/** The message and type OpenAI uses for statuses the simulator injects. */
const STATUS_DEFAULTS: Record<number, { message: string; type: string; code: string | null }> = {
  400: { message: "Bad request.", type: "invalid_request_error", code: null },
  401: { message: "Incorrect API key provided.", type: "invalid_request_error", code: "invalid_api_key" },
  403: { message: "You are not allowed to sample from this model.", type: "invalid_request_error", code: null },
  404: { message: "Not found.", type: "invalid_request_error", code: null },
  409: { message: "Conflict.", type: "invalid_request_error", code: null },
  422: { message: "Unprocessable entity.", type: "invalid_request_error", code: null },
  429: { message: "Rate limit reached for requests. Please try again later.", type: "requests", code: "rate_limit_exceeded" },
  500: { message: "The server had an error while processing your request. Sorry about that!", type: "server_error", code: null },
  502: { message: "Bad gateway.", type: "server_error", code: null },
  503: { message: "The engine is currently overloaded, please try again later.", type: "server_error", code: null },
  504: { message: "Gateway timeout.", type: "server_error", code: null },
};

export function openAIErrorDefaults(status: number): { message: string; type: string; code: string | null } {
  return STATUS_DEFAULTS[status] ?? { message: `Simulated error ${status}.`, type: status >= 500 ? "server_error" : "invalid_request_error", code: null };
}

export const openAIFormat: ProviderFormat = {
  name: "openai",
  renderError(error) {
    const defaults = openAIErrorDefaults(error.status);
    return {
      body: {
        error: {
          message: error.message || defaults.message,
          type: error.details.type ?? defaults.type,
          param: error.details.param ?? null,
          code: error.details.code === undefined ? defaults.code : error.details.code,
        },
      },
      headers: error.details.headers,
    };
  },
};

function invalid(message: string, param: string | null = null, code: string | null = null, status = 400): SimHttpError {
  return new SimHttpError(status, message, { type: "invalid_request_error", param, code });
}

function maskKey(key: string): string {
  return key.length <= 8 ? "***" : `${key.slice(0, 3)}${"*".repeat(Math.min(12, key.length - 7))}${key.slice(-4)}`;
}

/** Bearer auth the way OpenAI answers it: 401 with an explanatory message, never a bare status. */
function authorize(ctx: RouteContext): void {
  const key = bearerKey(ctx);
  if (!key) {
    throw new SimHttpError(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
      { type: "invalid_request_error", code: null },
    );
  }
  const allowed = ctx.state.config.apiKeys;
  const accepted = allowed ? allowed.includes(key) : key.startsWith("sk-") && key !== "sk-sim-invalid";
  if (!accepted) {
    throw new SimHttpError(
      401,
      `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      { type: "invalid_request_error", code: "invalid_api_key" },
    );
  }
}

function formatReset(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(3).replace(/\.?0+$/, "")}s` : `${Math.max(0, Math.round(ms))}ms`;
}

/**
 * Counts the request against the one-minute window and sets OpenAI's x-ratelimit-* headers; a
 * request over either limit gets a 429 with retry-after, like the real service.
 */
function meter(ctx: RouteContext, tokens: number): void {
  const { requestsPerMinute, tokensPerMinute } = ctx.state.config.rateLimit;
  const window = ctx.state.currentWindow();
  const resetMs = window.startedAt + 60_000 - Date.now();
  const over = window.requests + 1 > requestsPerMinute ? "requests" : window.tokens + tokens > tokensPerMinute ? "tokens" : null;
  if (!over) {
    window.requests += 1;
    window.tokens += tokens;
  }
  const headers = {
    "x-ratelimit-limit-requests": String(requestsPerMinute),
    "x-ratelimit-limit-tokens": String(tokensPerMinute),
    "x-ratelimit-remaining-requests": String(Math.max(0, requestsPerMinute - window.requests)),
    "x-ratelimit-remaining-tokens": String(Math.max(0, tokensPerMinute - window.tokens)),
    "x-ratelimit-reset-requests": formatReset(resetMs),
    "x-ratelimit-reset-tokens": formatReset(resetMs),
  };
  for (const [name, value] of Object.entries(headers)) ctx.res.setHeader(name, value);
  if (over) {
    throw new SimHttpError(
      429,
      `Rate limit reached for ${over} per min (RPM/TPM) on the simulated organization: limit ${over === "requests" ? requestsPerMinute : tokensPerMinute}. Please try again in ${formatReset(resetMs)}.`,
      { type: over, code: "rate_limit_exceeded", headers: { "retry-after": String(Math.max(1, Math.ceil(resetMs / 1000))) } },
    );
  }
}

function requireModel(body: Record<string, unknown>, kinds: readonly ModelKind[], endpoint: string): ModelInfo {
  if (typeof body.model !== "string" || body.model === "") throw invalid("you must provide a model parameter", "model");
  const model = MODELS_BY_ID.get(body.model);
  if (!model) {
    throw invalid(`The model \`${body.model}\` does not exist or you do not have access to it.`, null, "model_not_found", 404);
  }
  if (!kinds.includes(model.kind)) {
    throw invalid(`The model \`${model.id}\` is not supported by the ${endpoint} endpoint.`, "model", null, 404);
  }
  return model;
}

function optionalInt(body: Record<string, unknown>, name: string, min: number): number | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
    throw invalid(`Invalid '${name}': integer below minimum value. Expected a value >= ${min}, but got ${JSON.stringify(value)} instead.`, name, "integer_below_min_value");
  }
  return value;
}

function streamOptions(body: Record<string, unknown>, stream: boolean): { includeUsage: boolean } {
  const options = body.stream_options;
  if (options === undefined || options === null) return { includeUsage: false };
  if (!stream) {
    throw invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.", "stream_options");
  }
  if (typeof options !== "object" || Array.isArray(options)) throw invalid("'stream_options' must be an object.", "stream_options");
  return { includeUsage: (options as { include_usage?: unknown }).include_usage === true };
}

function newId(prefix: string): string {
  return `${prefix}-${randomBytes(12).toString("base64url")}`;
}

const SYSTEM_FINGERPRINT = "fp_sim0001";

function processingHeaders(ctx: RouteContext): Record<string, string> {
  return { "openai-processing-ms": String(Date.now() - ctx.log.at), "openai-version": "2020-10-01", "openai-organization": "sim-org" };
}

/** OpenAI's SSE: `data: <json>` per event, then `data: [DONE]`, with its processing headers. */
async function writeEventStream(ctx: RouteContext, events: SseEvent<unknown>[]): Promise<void> {
  await writeSse(ctx, events, dataFrame, processingHeaders(ctx));
}

function usageFrom(promptTokens: number, plan: Pick<PlannedCompletion, "completionTokens" | "reasoningTokens">, cachedTokens = 0): ChatUsage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: plan.completionTokens,
    total_tokens: promptTokens + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: cachedTokens, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: plan.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

function parseMessages(body: Record<string, unknown>): ChatMessageLike[] {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) {
    throw invalid("Invalid 'messages': empty array. Expected an array with minimum length 1.", "messages", "empty_array");
  }
  const roles = new Set(["system", "developer", "user", "assistant", "tool", "function"]);
  messages.forEach((m, i) => {
    if (typeof m !== "object" || m === null || !roles.has((m as { role?: unknown }).role as string)) {
      throw invalid(`Invalid value for 'messages[${i}].role': expected one of ${[...roles].join(", ")}.`, `messages[${i}].role`, "invalid_value");
    }
  });
  return messages as ChatMessageLike[];
}

function parseTools(body: Record<string, unknown>): { tools: unknown[] | null; toolChoice: unknown } {
  const tools = body.tools;
  if (tools === undefined || tools === null) {
    if (body.tool_choice !== undefined && body.tool_choice !== null && body.tool_choice !== "none") {
      throw invalid("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.", "tool_choice");
    }
    return { tools: null, toolChoice: undefined };
  }
  if (!Array.isArray(tools)) throw invalid("Invalid type for 'tools': expected an array.", "tools", "invalid_type");
  tools.forEach((tool, i) => {
    const fn = (tool as { type?: unknown; function?: { name?: unknown } })?.function;
    if ((tool as { type?: unknown })?.type !== "function" || typeof fn?.name !== "string" || !/^[a-zA-Z0-9_-]{1,64}$/.test(fn.name)) {
      throw invalid(`Invalid 'tools[${i}]': expected {type: "function", function: {name, parameters?}} with a name of [a-zA-Z0-9_-]{1,64}.`, `tools[${i}]`, "invalid_value");
    }
  });
  const choice = body.tool_choice;
  const named = (choice as { function?: { name?: unknown } } | null | undefined)?.function?.name;
  if (typeof named === "string" && !chosenTool({ tools, tool_choice: choice })) {
    throw invalid(`Invalid value for 'tool_choice': function '${named}' is not among the provided tools.`, "tool_choice", "invalid_value");
  }
  return { tools, toolChoice: choice };
}

function requireSingleChoice(body: Record<string, unknown>): void {
  const n = optionalInt(body, "n", 1);
  if (n !== null && n > 1) throw invalid("The simulator answers with one choice; 'n' greater than 1 is not supported.", "n");
}

async function chatCompletions(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = ctx.json();
  const model = requireModel(body, ["chat"], "v1/chat/completions");
  const messages = parseMessages(body);
  const choiceCount = optionalInt(body, "n", 1) ?? 1;
  if (choiceCount > MAX_CHOICES) throw invalid(`Invalid 'n': integer above maximum value. Expected a value <= ${MAX_CHOICES}, but got ${choiceCount} instead.`, "n", "integer_above_max_value");
  const stream = body.stream === true;
  const { includeUsage } = streamOptions(body, stream);
  const maxTokens = optionalInt(body, "max_tokens", 1);
  const maxCompletionTokens = optionalInt(body, "max_completion_tokens", 1);
  const { tools, toolChoice } = parseTools(body);
  const promptTokens = requestPromptTokens({ messages, tools });
  if (promptTokens > model.context) {
    throw invalid(`This model's maximum context length is ${model.context} tokens. However, your messages resulted in ${promptTokens} tokens.`, "messages", "context_length_exceeded");
  }
  const request = { model: model.id, messages, max_tokens: maxTokens, max_completion_tokens: maxCompletionTokens, tools, tool_choice: toolChoice, n: choiceCount };
  const toolCall = planToolCall(request);
  const plans = toolCall ? [] : planChoices(request, { completionTokens: ctx.overrides.completionTokens ?? ctx.state.config.completionTokens });
  const usage = usageFrom(
    promptTokens,
    {
      completionTokens: toolCall ? toolCall.completionTokens * choiceCount : plans.reduce((sum, p) => sum + p.completionTokens, 0),
      reasoningTokens: plans.reduce((sum, p) => sum + p.reasoningTokens, 0),
    },
    ctx.state.config.promptCache ? usePromptCache(ctx.state, request) : 0,
  );
  meter(ctx, usage.total_tokens);

  const id = newId("chatcmpl");
  const created = Math.floor(Date.now() / 1000);
  const interval = tokenInterval(ctx);
  const indexes = Array.from({ length: choiceCount }, (_, i) => i);

  if (!stream) {
    // A JSON reply takes as long as generating the longest choice's stream would.
    const longest = toolCall ? toolCall.completionTokens : Math.max(...plans.map((p) => p.completionTokens));
    if (!(await ctx.sleep(interval * longest))) return;
    recordServed(ctx, usage, null);
    const choices = indexes.map((index) =>
      toolCall
        ? { index, message: { role: "assistant", content: null, refusal: null, annotations: [], tool_calls: [toolCallObject(toolCall)] }, logprobs: null, finish_reason: toolCall.finishReason }
        : { index, message: { role: "assistant", content: plans[index].text, refusal: null, annotations: [] }, logprobs: null, finish_reason: plans[index].finishReason },
    );
    sendJson(
      ctx.res,
      200,
      { id, object: "chat.completion", created, model: model.id, choices, usage, service_tier: "default", system_fingerprint: SYSTEM_FINGERPRINT },
      processingHeaders(ctx),
    );
    return;
  }

  // With include_usage every chunk carries `usage: null` and one extra chunk carries the totals.
  const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) => ({
    id,
    object: "chat.completion.chunk",
    created,
    model: model.id,
    service_tier: "default",
    system_fingerprint: SYSTEM_FINGERPRINT,
    choices,
    ...(includeUsage ? { usage: null } : {}),
    ...extra,
  });
  type Step = { delta: Record<string, unknown>; finish: string | null; delayMs: number };
  const stepsFor = (index: number): Step[] => {
    if (toolCall) {
      // Tool calls stream as a header delta (id, name) and then argument fragments.
      return [
        { delta: { role: "assistant", content: null, refusal: null }, finish: null, delayMs: 0 },
        { delta: { tool_calls: [{ index: 0, id: toolCall.id, type: "function", function: { name: toolCall.name, arguments: "" } }] }, finish: null, delayMs: interval },
        ...toolCall.argumentPieces.map((piece) => ({ delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish: null, delayMs: interval })),
        { delta: {}, finish: toolCall.finishReason, delayMs: 0 },
      ];
    }
    const text = plans[index];
    return [
      { delta: { role: "assistant", content: "", refusal: null }, finish: null, delayMs: 0 },
      // Hidden reasoning happens before the first visible token.
      ...text.pieces.map((piece, i) => ({ delta: { content: piece }, finish: null, delayMs: interval * (i === 0 ? text.reasoningTokens + 1 : 1) })),
      { delta: {}, finish: text.finishReason, delayMs: text.pieces.length === 0 ? interval * text.reasoningTokens : 0 },
    ];
  };
  // Choices are generated side by side: one chunk per choice per step, as upstream interleaves them.
  const perChoice = indexes.map(stepsFor);
  const events: { data: unknown; delayMs: number }[] = [];
  for (let step = 0; step < Math.max(...perChoice.map((steps) => steps.length)); step++) {
    const due = perChoice.map((steps, index) => ({ index, step: steps[step] })).filter((d) => d.step !== undefined);
    const delayMs = Math.max(...due.map((d) => d.step.delayMs));
    due.forEach((d, k) => {
      events.push({ data: chunk([{ index: d.index, delta: d.step.delta, logprobs: null, finish_reason: d.step.finish }]), delayMs: k === 0 ? delayMs : 0 });
    });
  }
  if (includeUsage) events.push({ data: chunk([], { usage }), delayMs: 0 });
  events.push({ data: "[DONE]", delayMs: 0 });
  recordServed(ctx, usage, { usageEvent: includeUsage ? events.length - 2 : null });
  await writeEventStream(ctx, events);
}

/** Remembered message prefixes, per simulator, for the opt-in prompt cache. */
const promptCaches = new WeakMap<SimulatorState, Set<string>>();

/** cached_tokens for this request, then remembers its prefixes for the next ones. */
function usePromptCache(state: SimulatorState, request: ChatRequestLike): number {
  let cache = promptCaches.get(state);
  if (!cache) {
    const created = new Set<string>();
    cache = created;
    promptCaches.set(state, created);
    state.onReset(() => created.clear());
  }
  const seen = cache;
  const cached = cachedPromptTokens(request, (key) => seen.has(key));
  request.messages.forEach((_, i) => seen.add(prefixKey(request.model, request.messages, i + 1)));
  return cached;
}

function toolCallObject(call: PlannedToolCall) {
  return { id: call.id, type: "function", function: { name: call.name, arguments: call.arguments } };
}

/** Legacy `POST /v1/completions` (gpt-3.5-turbo-instruct): prompt tokens = textTokens(prompt). */
async function completions(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = ctx.json();
  const model = requireModel(body, ["completion"], "v1/completions");
  const prompt = body.prompt;
  const prompts = typeof prompt === "string" ? [prompt] : Array.isArray(prompt) && prompt.every((p) => typeof p === "string") ? (prompt as string[]) : null;
  if (!prompts || prompts.length !== 1) throw invalid("'prompt' must be a string (the simulator answers one prompt per request).", "prompt");
  requireSingleChoice(body);
  const stream = body.stream === true;
  const { includeUsage } = streamOptions(body, stream);
  const maxTokens = optionalInt(body, "max_tokens", 1) ?? 16; // the legacy endpoint defaults to 16
  const promptTokens = textTokens(prompts[0]);
  const plan = planCompletion(
    { model: model.id, messages: [{ role: "user", content: prompts[0] }], max_tokens: maxTokens },
    { completionTokens: ctx.overrides.completionTokens ?? ctx.state.config.completionTokens },
  );
  const usage = { prompt_tokens: promptTokens, completion_tokens: plan.completionTokens, total_tokens: promptTokens + plan.completionTokens };
  meter(ctx, usage.total_tokens);
  const id = newId("cmpl");
  const created = Math.floor(Date.now() / 1000);
  const interval = tokenInterval(ctx);
  const base = { id, object: "text_completion", created, model: model.id, system_fingerprint: SYSTEM_FINGERPRINT };
  if (!stream) {
    if (!(await ctx.sleep(interval * plan.completionTokens))) return;
    recordServed(ctx, usage, null);
    sendJson(ctx.res, 200, { ...base, choices: [{ text: plan.text, index: 0, logprobs: null, finish_reason: plan.finishReason }], usage }, processingHeaders(ctx));
    return;
  }
  const events: { data: unknown; delayMs: number }[] = plan.pieces.map((piece, i) => ({
    data: { ...base, choices: [{ text: piece, index: 0, logprobs: null, finish_reason: i === plan.pieces.length - 1 ? plan.finishReason : null }], ...(includeUsage ? { usage: null } : {}) },
    delayMs: i === 0 ? 0 : interval,
  }));
  if (plan.pieces.length === 0) {
    events.push({ data: { ...base, choices: [{ text: "", index: 0, logprobs: null, finish_reason: plan.finishReason }], ...(includeUsage ? { usage: null } : {}) }, delayMs: 0 });
  }
  if (includeUsage) events.push({ data: { ...base, choices: [], usage }, delayMs: 0 });
  events.push({ data: "[DONE]", delayMs: 0 });
  recordServed(ctx, usage, { usageEvent: includeUsage ? events.length - 2 : null });
  await writeEventStream(ctx, events);
}

type EmbeddingInput = string | string[] | number[] | number[][];

function parseEmbeddingInput(value: unknown): EmbeddingInput {
  const isTokens = (v: unknown): v is number[] => Array.isArray(v) && v.length > 0 && v.every((n) => Number.isInteger(n) && n >= 0);
  if (typeof value === "string") {
    if (value === "") throw invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input");
    return value;
  }
  if (Array.isArray(value) && value.length > 0) {
    if (value.length > EMBEDDING_MAX_INPUTS) throw invalid(`'$.input' is too long: at most ${EMBEDDING_MAX_INPUTS} inputs per request.`, "input");
    if (value.every((v) => typeof v === "string" && v !== "")) return value as string[];
    if (isTokens(value)) return value;
    if (value.every(isTokens)) return value as number[][];
  }
  throw invalid("'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.", "input");
}

/** A unit vector that depends only on the model and the input, so equal inputs embed equally. */
export function embeddingVector(model: string, input: string | number[], dimensions: number): Float32Array {
  const random = mulberry32(fnv1a(`${model}\u0000${typeof input === "string" ? input : input.join(",")}`));
  const vector = new Float32Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const value = random() * 2 - 1;
    vector[i] = value;
    norm += value * value;
  }
  const scale = 1 / Math.sqrt(norm || 1);
  for (let i = 0; i < dimensions; i++) vector[i] *= scale;
  return vector;
}

/** base64 of the little-endian Float32 bytes, the encoding the SDK asks for by default. */
export function float32ToBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => bytes.writeFloatLE(v, i * 4));
  return bytes.toString("base64");
}

async function embeddings(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = ctx.json();
  const model = requireModel(body, ["embedding"], "v1/embeddings");
  const input = parseEmbeddingInput(body.input);
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") {
    throw invalid(`Invalid value for 'encoding_format': expected 'float' or 'base64', got ${JSON.stringify(format)}.`, "encoding_format", "invalid_value");
  }
  let dimensions = model.dimensions ?? 1536;
  if (body.dimensions !== undefined && body.dimensions !== null) {
    if (model.id === "text-embedding-ada-002") throw invalid("This model does not support specifying dimensions.", "dimensions");
    const requested = optionalInt(body, "dimensions", 1)!;
    if (requested > dimensions) throw invalid(`Invalid 'dimensions': at most ${dimensions} for ${model.id}.`, "dimensions");
    dimensions = requested;
  }
  const perInput = embeddingInputTokens(input);
  perInput.forEach((tokens, i) => {
    if (tokens > model.context) {
      throw invalid(`This model's maximum context length is ${model.context} tokens, however you requested ${tokens} tokens in input ${i}. Please reduce your prompt.`, "input", "context_length_exceeded");
    }
  });
  const promptTokens = perInput.reduce((a, b) => a + b, 0);
  meter(ctx, promptTokens);
  const items: (string | number[])[] = typeof input === "string" ? [input] : typeof input[0] === "number" ? [input as number[]] : (input as (string | number[])[]);
  const data = items.map((item, index) => {
    const vector = embeddingVector(model.id, item, dimensions);
    return { object: "embedding", index, embedding: format === "base64" ? float32ToBase64(vector) : Array.from(vector) };
  });
  recordServed(ctx, { prompt_tokens: promptTokens, total_tokens: promptTokens }, null);
  sendJson(ctx.res, 200, { object: "list", data, model: model.id, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens } }, processingHeaders(ctx));
}

function modelObject(model: ModelInfo) {
  return { id: model.id, object: "model", created: model.created, owned_by: model.owned_by };
}

async function listModels(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  meter(ctx, 0);
  sendJson(ctx.res, 200, { object: "list", data: OPENAI_MODELS.map(modelObject) }, processingHeaders(ctx));
}

async function retrieveModel(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const id = decodeURIComponent(ctx.params[0]);
  const model = MODELS_BY_ID.get(id);
  if (!model) throw invalid(`The model '${id}' does not exist`, "model", "model_not_found", 404);
  meter(ctx, 0);
  sendJson(ctx.res, 200, modelObject(model), processingHeaders(ctx));
}

async function speech(ctx: RouteContext): Promise<void> {
  authorize(ctx);
  const body = ctx.json();
  requireModel(body, ["speech"], "v1/audio/speech");
  if (typeof body.input !== "string" || body.input === "") throw invalid("Missing required parameter: 'input'.", "input", "missing_required_parameter");
  const characters = [...body.input].length;
  if (characters > SPEECH_MAX_CHARACTERS) {
    throw invalid(`[{'type': 'string_too_long', 'loc': ('body', 'input'), 'msg': 'String should have at most ${SPEECH_MAX_CHARACTERS} characters', 'input': '...', 'ctx': {'max_length': ${SPEECH_MAX_CHARACTERS}}}]`, "input", "string_too_long");
  }
  if (typeof body.voice !== "string" || !SPEECH_VOICES.includes(body.voice)) {
    throw invalid(`Invalid value for 'voice': expected one of ${SPEECH_VOICES.join(", ")}.`, "voice", "invalid_value");
  }
  const format = (body.response_format ?? "mp3") as SpeechFormat;
  if (!SPEECH_FORMATS.includes(format)) {
    throw invalid(`Invalid value for 'response_format': expected one of ${SPEECH_FORMATS.join(", ")}.`, "response_format", "invalid_value");
  }
  const speed = body.speed ?? 1;
  if (typeof speed !== "number" || speed < 0.25 || speed > 4) throw invalid("Invalid 'speed': expected a number between 0.25 and 4.0.", "speed", "invalid_value");
  meter(ctx, 0);
  const audio = speechAudio(body.input, format, speed);
  sendBytes(ctx.res, 200, audio, SPEECH_CONTENT_TYPES[format], processingHeaders(ctx));
}

export const openAIRoutes: Route[] = [
  { method: "POST", path: /^\/v1\/chat\/completions$/, provider: openAIFormat, handle: chatCompletions },
  { method: "POST", path: /^\/v1\/completions$/, provider: openAIFormat, handle: completions },
  { method: "POST", path: /^\/v1\/embeddings$/, provider: openAIFormat, handle: embeddings },
  { method: "GET", path: /^\/v1\/models$/, provider: openAIFormat, handle: listModels },
  { method: "GET", path: /^\/v1\/models\/(.+)$/, provider: openAIFormat, handle: retrieveModel },
  { method: "POST", path: /^\/v1\/audio\/speech$/, provider: openAIFormat, handle: speech },
];
