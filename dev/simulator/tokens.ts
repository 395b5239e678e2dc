/**
 * Deterministic token accounting for the simulated OpenAI API.
 *
 * Real tokenizers are model specific and large; tests only need counts that are a pure, documented
 * function of the request so they can predict exactly what the upstream will report. Everything
 * here is plain TypeScript with no Node imports, so the Convex (edge) test project can import it too.
 * The formulas are described in dev/simulator/README.md; keep the two in sync.
 */

/** Overhead per chat message (role and separators), as in OpenAI's published counting recipe. */
export const TOKENS_PER_MESSAGE = 3;
/** Every reply is primed with `<|start|>assistant<|message|>`. */
export const REPLY_PRIMING_TOKENS = 3;
/** One extra token when a message carries a `name`. */
export const TOKENS_PER_NAME = 1;
/** Flat charge for a non-text content part (image, audio, file), like a low-detail image tile. */
export const TOKENS_PER_NON_TEXT_PART = 85;

/** Completion length, in tokens, when nothing caps it: MIN + hash % SPREAD. */
export const COMPLETION_MIN_TOKENS = 8;
export const COMPLETION_SPREAD = 41;

/** Models that spend hidden reasoning tokens before answering (counted in completion_tokens). */
export const REASONING_MODELS: ReadonlySet<string> = new Set(["o3-mini", "o4-mini", "gpt-5", "gpt-5-mini"]);

/** Tokens in a piece of text: ceil(Unicode code points / 4). Empty text is 0 tokens. */
export function textTokens(text: string): number {
  let codePoints = 0;
  for (const _ of text) codePoints++;
  return Math.ceil(codePoints / 4);
}

export interface ChatMessageLike {
  role?: unknown;
  content?: unknown;
  name?: unknown;
  tool_calls?: unknown;
}

/** The text of a message's content: a string, or the `text` of each text part of an array. */
export function messageText(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) => (isTextPart(part) ? part.text : ""))
    .join("");
}

function isTextPart(part: unknown): part is { type: string; text: string } {
  if (typeof part !== "object" || part === null) return false;
  const p = part as { type?: unknown; text?: unknown };
  return (p.type === "text" || p.type === "input_text") && typeof p.text === "string";
}

function nonTextParts(content: unknown): number {
  return Array.isArray(content) ? content.filter((part) => !isTextPart(part)).length : 0;
}

/** Tokens of one chat message, overhead included. */
export function messageTokens(message: ChatMessageLike): number {
  let tokens = TOKENS_PER_MESSAGE + textTokens(messageText(message.content));
  tokens += TOKENS_PER_NON_TEXT_PART * nonTextParts(message.content);
  if (typeof message.name === "string" && message.name.length > 0) tokens += TOKENS_PER_NAME;
  // Assistant turns that called tools are billed for the serialized calls.
  if (Array.isArray(message.tool_calls)) tokens += textTokens(JSON.stringify(message.tool_calls));
  return tokens;
}

/** prompt_tokens of a chat request: sum of messageTokens + REPLY_PRIMING_TOKENS. */
export function chatPromptTokens(messages: readonly ChatMessageLike[]): number {
  return messages.reduce((sum, m) => sum + messageTokens(m), REPLY_PRIMING_TOKENS);
}

/**
 * Tokens of each embeddings input. Strings count as textTokens; pre-tokenized inputs (an array of
 * integers, or an array of such arrays) count one token per integer, as the real API does.
 */
export function embeddingInputTokens(input: string | readonly string[] | readonly number[] | readonly (readonly number[])[]): number[] {
  if (typeof input === "string") return [textTokens(input)];
  if (input.length > 0 && typeof input[0] === "number") return [input.length];
  return (input as readonly (string | readonly number[])[]).map((item) =>
    typeof item === "string" ? textTokens(item) : item.length,
  );
}

/** 32-bit FNV-1a over the UTF-16 code units of `text`: small, fast and stable everywhere. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/** The seed every deterministic choice about a chat reply derives from. */
export function promptHash(model: string, messages: readonly ChatMessageLike[]): number {
  const canonical = messages.map((m) => `${String(m.role ?? "")}:${messageText(m.content)}`).join("\u0001");
  return fnv1a(`${model}\u0000${canonical}`);
}

/** mulberry32: a seeded PRNG so generated text and vectors never depend on Math.random. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = [
  "the", "simulated", "assistant", "answers", "with", "a", "short", "and", "fully", "deterministic",
  "reply", "so", "that", "every", "test", "can", "predict", "its", "length", "tokens",
  "usage", "quota", "stream", "chunk", "model", "prompt", "metered", "proxy", "request", "upstream",
  "latency", "budget", "plan", "account", "dex", "cloud", "is", "ready", "today", "here",
];

export interface ChatRequestLike {
  model: string;
  messages: readonly ChatMessageLike[];
  max_tokens?: number | null;
  max_completion_tokens?: number | null;
  tools?: readonly unknown[] | null;
  tool_choice?: unknown;
  /** Number of choices; each is planned separately and billed in completion_tokens. */
  n?: number | null;
}

/** Fixed cost of one tool call in a reply (call framing), on top of its name and arguments. */
export const TOKENS_PER_TOOL_CALL = 3;

/** prompt_tokens including tool definitions: chatPromptTokens + textTokens(JSON.stringify(tools)). */
export function requestPromptTokens(request: Pick<ChatRequestLike, "messages" | "tools">): number {
  const tools = request.tools && request.tools.length > 0 ? textTokens(JSON.stringify(request.tools)) : 0;
  return chatPromptTokens(request.messages) + tools;
}

interface FunctionTool {
  name: string;
  parameters: unknown;
}

function functionTools(tools: readonly unknown[] | null | undefined): FunctionTool[] {
  return (tools ?? []).flatMap((tool) => {
    const fn = (tool as { type?: unknown; function?: { name?: unknown; parameters?: unknown } })?.function;
    return typeof fn?.name === "string" ? [{ name: fn.name, parameters: fn.parameters }] : [];
  });
}

/**
 * The tool the reply calls: the one named by `tool_choice: {type: "function", function: {name}}`,
 * or the first tool when `tool_choice` is "required". "auto" (or none) answers in text, so the
 * reply stays predictable.
 */
export function chosenTool(request: Pick<ChatRequestLike, "tools" | "tool_choice">): FunctionTool | null {
  const tools = functionTools(request.tools);
  if (tools.length === 0) return null;
  const choice = request.tool_choice;
  if (choice === "required") return tools[0];
  const named = (choice as { function?: { name?: unknown } } | null | undefined)?.function?.name;
  return typeof named === "string" ? (tools.find((t) => t.name === named) ?? null) : null;
}

/** Placeholder arguments that satisfy a JSON schema's required properties by type. */
export function placeholderArguments(schema: unknown): unknown {
  const s = (schema ?? {}) as { type?: unknown; properties?: Record<string, unknown>; required?: unknown; enum?: unknown; items?: unknown };
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  switch (s.type) {
    case "string":
      return "sim";
    case "number":
    case "integer":
      return 1;
    case "boolean":
      return true;
    case "array":
      return [];
    case "object":
    case undefined: {
      const required = Array.isArray(s.required) ? (s.required as string[]) : [];
      return Object.fromEntries(required.map((key) => [key, placeholderArguments(s.properties?.[key])]));
    }
    default:
      return null;
  }
}

export interface PlannedToolCall {
  id: string;
  name: string;
  arguments: string;
  /** The arguments as streamed: 4 characters per token. */
  argumentPieces: string[];
  completionTokens: number;
  finishReason: "tool_calls" | "length";
}

/**
 * The tool call the simulator makes, or null for a text reply.
 * arguments = JSON.stringify(placeholderArguments(parameters)); cost = TOKENS_PER_TOOL_CALL +
 * textTokens(name) + textTokens(arguments). Over the max tokens limit the arguments are cut
 * (4 characters per remaining token) and finish_reason is "length".
 */
export function planToolCall(request: ChatRequestLike): PlannedToolCall | null {
  const tool = chosenTool(request);
  if (!tool) return null;
  const args = JSON.stringify(placeholderArguments(tool.parameters));
  const overhead = TOKENS_PER_TOOL_CALL + textTokens(tool.name);
  const full = overhead + textTokens(args);
  const limit = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const kept = full <= limit ? args : [...args].slice(0, Math.max(0, limit - overhead) * 4).join("");
  const chars = [...kept];
  const argumentPieces: string[] = [];
  for (let i = 0; i < chars.length; i += 4) argumentPieces.push(chars.slice(i, i + 4).join(""));
  return {
    id: `call_${promptHash(request.model, request.messages).toString(36)}${tool.name.length.toString(36)}`,
    name: tool.name,
    arguments: kept,
    argumentPieces,
    completionTokens: Math.min(full, limit),
    finishReason: full <= limit ? "tool_calls" : "length",
  };
}

export interface PlannedCompletion {
  /** Visible content, one entry per token; each streaming content delta carries one entry. */
  pieces: string[];
  text: string;
  reasoningTokens: number;
  /** reasoningTokens + pieces.length: what usage.completion_tokens reports. */
  completionTokens: number;
  finishReason: "stop" | "length";
}

export interface CompletionOptions {
  /** Overrides the hash-derived natural length of the visible reply (simulator knob). */
  completionTokens?: number | null;
  /** Which of `n` choices (0-based); choice 0 is the reply a request with n = 1 gets. */
  choiceIndex?: number;
  /** prompt_tokens_details.cached_tokens (only with the promptCache knob; see cachedPromptTokens). */
  cachedTokens?: number;
}

/**
 * The reply the simulator gives to a chat request.
 * natural = COMPLETION_MIN_TOKENS + hash % COMPLETION_SPREAD (or the override);
 * reasoning = 16 * (1 + (hash >>> 8) % 4) for REASONING_MODELS, else 0;
 * limit = max_completion_tokens ?? max_tokens ?? unlimited;
 * visible = min(natural, max(0, limit - reasoning)), reasoning = min(reasoning, limit);
 * finish_reason = "length" when reasoning + natural exceeded the limit, else "stop".
 */
export function planCompletion(request: ChatRequestLike, options: CompletionOptions = {}): PlannedCompletion {
  const base = promptHash(request.model, request.messages);
  const hash = options.choiceIndex ? fnv1a(`${base}:${options.choiceIndex}`) : base;
  const natural = options.completionTokens ?? COMPLETION_MIN_TOKENS + (hash % COMPLETION_SPREAD);
  const wantedReasoning = REASONING_MODELS.has(request.model) ? 16 * (1 + ((hash >>> 8) % 4)) : 0;
  const limit = request.max_completion_tokens ?? request.max_tokens ?? Number.POSITIVE_INFINITY;
  const reasoningTokens = Math.min(wantedReasoning, limit);
  const visible = Math.min(natural, Math.max(0, limit - reasoningTokens));
  const random = mulberry32(hash);
  const pieces: string[] = [];
  for (let i = 0; i < visible; i++) {
    const word = WORDS[Math.floor(random() * WORDS.length)];
    pieces.push(i === 0 ? word[0].toUpperCase() + word.slice(1) : ` ${word}`);
  }
  return {
    pieces,
    text: pieces.join(""),
    reasoningTokens,
    completionTokens: reasoningTokens + visible,
    finishReason: wantedReasoning + natural > limit ? "length" : "stop",
  };
}

/** One plan per choice: choice i > 0 hashes `${promptHash}:${i}`. */
export function planChoices(request: ChatRequestLike, options: CompletionOptions = {}): PlannedCompletion[] {
  return Array.from({ length: Math.max(1, request.n ?? 1) }, (_, i) => planCompletion(request, { ...options, choiceIndex: i }));
}

/** Prompts shorter than this are never cached; hits count in whole blocks (OpenAI's rules). */
export const PROMPT_CACHE_MIN_TOKENS = 1024;
export const PROMPT_CACHE_BLOCK_TOKENS = 128;

/** Key of the first `count` messages of a request, as the prompt cache remembers them. */
export function prefixKey(model: string, messages: readonly ChatMessageLike[], count: number): string {
  return `${model}\u0000${promptHash(model, messages.slice(0, count))}:${count}`;
}

/**
 * cached_tokens for a request given the prefixes the cache has seen: the tokens of the longest
 * seen message prefix (sum of messageTokens), rounded down to PROMPT_CACHE_BLOCK_TOKENS, and 0
 * when the prompt has fewer than PROMPT_CACHE_MIN_TOKENS.
 */
export function cachedPromptTokens(request: Pick<ChatRequestLike, "model" | "messages" | "tools">, seen: (key: string) => boolean): number {
  if (requestPromptTokens(request) < PROMPT_CACHE_MIN_TOKENS) return 0;
  let prefixTokens = 0;
  let cached = 0;
  request.messages.forEach((message, i) => {
    prefixTokens += messageTokens(message);
    if (seen(prefixKey(request.model, request.messages, i + 1))) cached = prefixTokens;
  });
  return Math.floor(cached / PROMPT_CACHE_BLOCK_TOKENS) * PROMPT_CACHE_BLOCK_TOKENS;
}

export interface ChatUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** The exact `usage` object the simulator reports for a chat request (text or tool call). */
export function chatUsage(request: ChatRequestLike, options: CompletionOptions = {}): ChatUsage {
  const toolCall = planToolCall(request);
  const choices = Math.max(1, request.n ?? 1);
  const plan = toolCall
    ? { completionTokens: toolCall.completionTokens * choices, reasoningTokens: 0 }
    : planChoices(request, options).reduce((sum, p) => ({ completionTokens: sum.completionTokens + p.completionTokens, reasoningTokens: sum.reasoningTokens + p.reasoningTokens }), { completionTokens: 0, reasoningTokens: 0 });
  const prompt = requestPromptTokens(request);
  return {
    prompt_tokens: prompt,
    completion_tokens: plan.completionTokens,
    total_tokens: prompt + plan.completionTokens,
    prompt_tokens_details: { cached_tokens: options.cachedTokens ?? 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: plan.reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
