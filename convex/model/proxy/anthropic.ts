// OpenAI chat completions <-> Anthropic's Messages API, without I/O. Pure.
//
// Requests: system/developer messages -> `system` blocks; user/assistant turns -> content
// blocks; assistant `tool_calls` -> `tool_use` blocks; `role: tool` messages -> `tool_result`
// blocks in a user turn; consecutive turns of one role are merged (Anthropic alternates roles).
// `cache_control` on a text part passes through, so OpenAI-shaped clients can use Anthropic's
// prompt cache. Replies: `content` blocks -> message content and `tool_calls`, `stop_reason`
// -> `finish_reason`, usage with cache reads and writes. Streams: Anthropic's SSE events ->
// `chat.completion.chunk` events (usage last, as OpenAI's include_usage sends it).
import { formatSseData, SSE_DONE, SseParser } from "./sse";

/** A request the Messages API cannot express; the proxy answers 400 with `param`. */
export class TranslationError extends Error {
  constructor(message: string, readonly param: string | null = null) {
    super(message);
    this.name = "TranslationError";
  }
}

type Json = Record<string, unknown>;
export type AnthropicBlock = Json & { type: string };
export interface AnthropicMessage {
  role: "user" | "assistant";
  content: AnthropicBlock[];
}

/**
 * Anthropic adds a hidden system prompt when tools are given (346 tokens at most for the
 * Claude 4 models); the hold adds it so the prompt bound stays an upper bound.
 */
export const TOOL_USE_SYSTEM_PROMPT_TOKENS = 346;
/**
 * An image costs Anthropic up to about 1,600 tokens (width x height / 750 after resizing to at
 * most 1.15 megapixels), a little more than the proxy's generic image bound.
 */
export const IMAGE_TOKENS = 1_600;

/**
 * What an Anthropic request may cost beyond estimateChatPromptTokens' bound (which holds
 * `imagePartTokens` per image): the tool-use system prompt and the larger image cost.
 */
export function holdAllowance(body: { messages?: unknown; tools?: unknown }, imagePartTokens: number): number {
  const tools = Array.isArray(body.tools) && body.tools.length > 0 ? TOOL_USE_SYSTEM_PROMPT_TOKENS : 0;
  let images = 0;
  for (const m of Array.isArray(body.messages) ? body.messages : []) {
    const content = isObject(m) ? m.content : undefined;
    if (Array.isArray(content)) images += content.filter((p) => isObject(p) && p.type === "image_url").length;
  }
  return tools + images * Math.max(0, IMAGE_TOKENS - imagePartTokens);
}

export const FINISH_REASONS: Readonly<Record<string, string>> = {
  end_turn: "stop",
  stop_sequence: "stop",
  pause_turn: "stop",
  max_tokens: "length",
  tool_use: "tool_calls",
  refusal: "content_filter",
};

export function finishReasonOf(stopReason: unknown): string | null {
  if (typeof stopReason !== "string") return null;
  return FINISH_REASONS[stopReason] ?? "stop";
}

function isObject(x: unknown): x is Json {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** `cache_control: {type: "ephemeral", ttl?}` kept from a part, anything else refused. */
function cacheControlOf(part: Json, param: string): Json | undefined {
  const cc = part.cache_control;
  if (cc === undefined || cc === null) return undefined;
  if (!isObject(cc) || cc.type !== "ephemeral") {
    throw new TranslationError("'cache_control' must be {type: \"ephemeral\"}.", param);
  }
  // The price book has the 5-minute write rate; 1-hour writes cost more and would be under-billed.
  if (cc.ttl !== undefined && cc.ttl !== "5m") {
    throw new TranslationError("Only the default 5-minute cache ('ttl': \"5m\") is available through Poindexter.", param);
  }
  return cc;
}

function textBlock(text: string, cacheControl?: Json): AnthropicBlock {
  return cacheControl ? { type: "text", text, cache_control: cacheControl } : { type: "text", text };
}

/** `data:image/png;base64,...` or an https URL -> an image block. */
function imageBlock(part: Json, param: string): AnthropicBlock {
  const image = part.image_url;
  const url = typeof image === "string" ? image : isObject(image) && typeof image.url === "string" ? image.url : null;
  if (url === null) throw new TranslationError("'image_url.url' must be a string.", param);
  const data = /^data:([a-z]+\/[a-z0-9.+-]+);base64,(.*)$/is.exec(url);
  if (data) return { type: "image", source: { type: "base64", media_type: data[1].toLowerCase(), data: data[2] } };
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  throw new TranslationError("An image must be an http(s) URL or a base64 data URL.", param);
}

/** A message's content as blocks: a string, or text/image parts (empty text is dropped). */
function contentBlocks(content: unknown, param: string, allowImages: boolean): AnthropicBlock[] {
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [textBlock(content)];
  if (!Array.isArray(content)) throw new TranslationError("'content' must be a string or an array of parts.", param);
  return content.flatMap((part, i): AnthropicBlock[] => {
    const p = `${param}[${i}]`;
    if (!isObject(part)) throw new TranslationError("Each content part must be an object.", p);
    if (part.type === "text" || part.type === "refusal") {
      const text = part.type === "text" ? part.text : part.refusal;
      if (typeof text !== "string") throw new TranslationError("A text part needs a string 'text'.", p);
      return text === "" ? [] : [textBlock(text, cacheControlOf(part, p))];
    }
    if (part.type === "image_url" && allowImages) return [imageBlock(part, p)];
    throw new TranslationError(`Content parts of type '${String(part.type)}' are not supported for Anthropic models here.`, p);
  });
}

/** The text of a tool message: a string, or its text parts joined. */
function toolResultContent(content: unknown, param: string): string {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .map((part, i) => {
        if (isObject(part) && part.type === "text" && typeof part.text === "string") return part.text;
        throw new TranslationError("A tool message's content parts must be text.", `${param}[${i}]`);
      })
      .join("");
  }
  throw new TranslationError("A tool message needs string 'content'.", param);
}

function toolUseBlocks(toolCalls: unknown, param: string): AnthropicBlock[] {
  if (toolCalls === undefined || toolCalls === null) return [];
  if (!Array.isArray(toolCalls)) throw new TranslationError("'tool_calls' must be an array.", param);
  return toolCalls.map((call, i) => {
    const p = `${param}[${i}]`;
    const fn = isObject(call) ? call.function : undefined;
    if (!isObject(call) || typeof call.id !== "string" || !isObject(fn) || typeof fn.name !== "string") {
      throw new TranslationError("A tool call needs an 'id' and 'function.name'.", p);
    }
    const raw = fn.arguments;
    let input: unknown = {};
    if (typeof raw === "string" && raw.trim() !== "") {
      try {
        input = JSON.parse(raw);
      } catch {
        throw new TranslationError("'function.arguments' must be a JSON object.", `${p}.function.arguments`);
      }
    }
    if (!isObject(input)) throw new TranslationError("'function.arguments' must be a JSON object.", `${p}.function.arguments`);
    return { type: "tool_use", id: call.id, name: fn.name, input };
  });
}

/** OpenAI messages -> Anthropic's `system` blocks and alternating turns. */
export function translateMessages(messages: unknown): { system: AnthropicBlock[]; messages: AnthropicMessage[] } {
  if (!Array.isArray(messages) || messages.length === 0) {
    throw new TranslationError("'messages' must be a non-empty array of messages.", "messages");
  }
  const system: AnthropicBlock[] = [];
  const turns: AnthropicMessage[] = [];
  const add = (role: "user" | "assistant", blocks: AnthropicBlock[]) => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else turns.push({ role, content: [...blocks] });
  };
  messages.forEach((m, i) => {
    const param = `messages[${i}]`;
    if (!isObject(m)) throw new TranslationError("Each message must be an object.", param);
    switch (m.role) {
      case "system":
      case "developer":
        // Anthropic has one system prompt: every system message joins it, in order.
        system.push(...contentBlocks(m.content, `${param}.content`, false));
        return;
      case "user":
        add("user", contentBlocks(m.content, `${param}.content`, true));
        return;
      case "assistant": {
        const blocks = [...contentBlocks(m.content, `${param}.content`, false), ...toolUseBlocks(m.tool_calls, `${param}.tool_calls`)];
        if (blocks.length === 0) throw new TranslationError("An assistant message needs content or tool_calls.", param);
        add("assistant", blocks);
        return;
      }
      case "tool":
        if (typeof m.tool_call_id !== "string") throw new TranslationError("A tool message needs 'tool_call_id'.", `${param}.tool_call_id`);
        add("user", [{ type: "tool_result", tool_use_id: m.tool_call_id, content: toolResultContent(m.content, `${param}.content`) }]);
        return;
      default:
        throw new TranslationError(`Messages with role '${String(m.role)}' are not supported for Anthropic models.`, `${param}.role`);
    }
  });
  if (turns.length === 0) throw new TranslationError("At least one user message is required.", "messages");
  return { system, messages: turns };
}

function translateTools(tools: unknown): Json[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw new TranslationError("'tools' must be an array.", "tools");
  return tools.map((tool, i) => {
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(tool) || tool.type !== "function" || !isObject(fn) || typeof fn.name !== "string") {
      throw new TranslationError("Each tool must be {type: \"function\", function: {name, parameters}}.", `tools[${i}]`);
    }
    const out: Json = { name: fn.name, input_schema: isObject(fn.parameters) ? fn.parameters : { type: "object", properties: {} } };
    if (typeof fn.description === "string") out.description = fn.description;
    const cc = cacheControlOf(tool, `tools[${i}]`);
    if (cc) out.cache_control = cc;
    return out;
  });
}

function translateToolChoice(choice: unknown, parallel: unknown): Json | undefined {
  let out: Json | undefined;
  if (choice === undefined || choice === null) out = undefined;
  else if (choice === "auto") out = { type: "auto" };
  else if (choice === "none") out = { type: "none" };
  else if (choice === "required") out = { type: "any" };
  else if (isObject(choice) && choice.type === "function" && isObject(choice.function) && typeof choice.function.name === "string") {
    out = { type: "tool", name: choice.function.name };
  } else {
    throw new TranslationError("'tool_choice' must be \"auto\", \"none\", \"required\" or {type: \"function\", function: {name}}.", "tool_choice");
  }
  if (parallel === false && out?.type !== "none") out = { ...(out ?? { type: "auto" }), disable_parallel_tool_use: true };
  return out;
}

/**
 * An OpenAI chat request as a Messages request, without `max_tokens`: the proxy adds the
 * hold's maximum (Anthropic requires one). Parameters Anthropic has no equivalent for that
 * change what the caller gets (n > 1, logprobs, JSON modes, temperature above 1) are refused;
 * sampling hints without an equivalent (seed, penalties, logit_bias) are dropped.
 */
export function toAnthropicRequest(body: Json): Json {
  const { system, messages } = translateMessages(body.messages);
  const out: Json = { model: body.model, messages };
  if (system.length > 0) out.system = system;
  if (body.n !== undefined && body.n !== null && body.n !== 1) {
    throw new TranslationError("Anthropic models answer with one choice; 'n' must be 1.", "n");
  }
  if (body.logprobs === true) throw new TranslationError("'logprobs' is not available for Anthropic models.", "logprobs");
  const format = body.response_format;
  if (format !== undefined && format !== null && !(isObject(format) && format.type === "text")) {
    throw new TranslationError("'response_format' other than text is not available for Anthropic models; describe the format in the prompt.", "response_format");
  }
  if (body.temperature !== undefined && body.temperature !== null) {
    if (typeof body.temperature !== "number" || body.temperature < 0 || body.temperature > 1) {
      throw new TranslationError("'temperature' must be between 0 and 1 for Anthropic models.", "temperature");
    }
    out.temperature = body.temperature;
  }
  if (body.top_p !== undefined && body.top_p !== null) {
    if (typeof body.top_p !== "number" || body.top_p < 0 || body.top_p > 1) throw new TranslationError("'top_p' must be between 0 and 1.", "top_p");
    out.top_p = body.top_p;
  }
  if (body.stop !== undefined && body.stop !== null) {
    const stops = typeof body.stop === "string" ? [body.stop] : body.stop;
    if (!Array.isArray(stops) || !stops.every((s) => typeof s === "string" && s.length > 0)) {
      throw new TranslationError("'stop' must be a string or an array of non-empty strings.", "stop");
    }
    if (stops.length > 0) out.stop_sequences = stops;
  }
  const tools = translateTools(body.tools);
  const toolChoice = translateToolChoice(body.tool_choice, body.parallel_tool_calls);
  if (tools && tools.length > 0) {
    out.tools = tools;
    if (toolChoice) out.tool_choice = toolChoice;
  } else if (toolChoice && toolChoice.type !== "none" && toolChoice.type !== "auto") {
    throw new TranslationError("'tool_choice' needs 'tools'.", "tool_choice");
  }
  if (typeof body.user === "string" && body.user !== "") out.metadata = { user_id: body.user };
  if (body.stream === true) out.stream = true;
  return out;
}

/** Anthropic's usage as OpenAI's, keeping Anthropic's cache fields (the ones billing reads). */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

function count(x: unknown): number {
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? Math.round(x) : 0;
}

/**
 * Anthropic counts `input_tokens` apart from the cached prompt: OpenAI's prompt_tokens is the
 * sum of all three, with reads as `cached_tokens` and writes as `cache_creation_input_tokens`.
 */
export function openAiUsageOf(usage: unknown): OpenAiUsage {
  const u = isObject(usage) ? usage : {};
  const read = count(u.cache_read_input_tokens);
  const written = count(u.cache_creation_input_tokens);
  const prompt = count(u.input_tokens) + read + written;
  const completion = count(u.output_tokens);
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: read },
    cache_read_input_tokens: read,
    cache_creation_input_tokens: written,
  };
}

/** A Messages reply as an OpenAI `chat.completion`. */
export function fromAnthropicMessage(message: unknown, created: number): Json {
  if (!isObject(message) || !Array.isArray(message.content)) {
    throw new TranslationError("The provider's reply is not a Messages API message.");
  }
  let text = "";
  const toolCalls: Json[] = [];
  for (const block of message.content) {
    if (!isObject(block)) continue;
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "tool_use") {
      toolCalls.push({ id: block.id, type: "function", function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) } });
    }
    // Thinking blocks stay upstream: OpenAI's chat shape has no place for them.
  }
  const reply: Json = { role: "assistant", content: text === "" && toolCalls.length > 0 ? null : text, refusal: null };
  if (toolCalls.length > 0) reply.tool_calls = toolCalls;
  return {
    id: message.id,
    object: "chat.completion",
    created,
    model: message.model,
    choices: [{ index: 0, message: reply, logprobs: null, finish_reason: finishReasonOf(message.stop_reason) ?? "stop" }],
    usage: openAiUsageOf(message.usage),
  };
}

/** What a cut stream is settled at: what upstream reported so far, output bounded by bytes. */
export interface PartialUsage {
  tokensIn: number;
  cachedTokensIn: number;
  cacheWriteTokensIn: number;
  tokensOut: number;
  characters: 0;
}

const encoder = new TextEncoder();

/**
 * Anthropic's stream -> OpenAI's: push the upstream's decoded text, get `chat.completion.chunk`
 * SSE text back. Every chunk carries `usage: null` and the last one before [DONE] carries the
 * usage, exactly as OpenAI streams with include_usage (the proxy's StreamRelay then hides it
 * from a client that did not ask). An `error` event becomes OpenAI's in-stream error.
 */
export class AnthropicStreamTranslator {
  private readonly parser = new SseParser();
  private id = "";
  private model: string;
  private usage: Json = {};
  private sawStart = false;
  private finishReason: string | null = null;
  /** Anthropic content block index -> OpenAI tool call index. */
  private readonly toolIndex = new Map<number, number>();
  private outputBytes = 0;

  constructor(private readonly opts: { created: number; model: string }) {
    this.model = opts.model;
  }

  push(text: string): string {
    return this.parser.push(text).map((ev) => this.translate(ev.data)).join("");
  }

  end(): string {
    return this.parser.end().map((ev) => this.translate(ev.data)).join("");
  }

  /**
   * The usage of a stream that broke off: the prompt as message_start reported it (else the
   * caller's bound) and the output bounded by the bytes received (tokens cover at least one
   * byte each), never above the output the request was allowed.
   */
  partialUsage(promptBound: number, maxOutputTokens: number): PartialUsage {
    const known = openAiUsageOf(this.usage);
    return {
      tokensIn: this.sawStart ? known.prompt_tokens : promptBound,
      cachedTokensIn: this.sawStart ? known.cache_read_input_tokens : 0,
      cacheWriteTokensIn: this.sawStart ? known.cache_creation_input_tokens : 0,
      tokensOut: Math.min(maxOutputTokens, Math.max(known.completion_tokens, this.outputBytes)),
      characters: 0,
    };
  }

  private chunk(delta: Json, finishReason: string | null = null): string {
    return formatSseData(JSON.stringify({
      id: this.id,
      object: "chat.completion.chunk",
      created: this.opts.created,
      model: this.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      usage: null,
    }));
  }

  private translate(data: string): string {
    let event: Json;
    try {
      const parsed: unknown = JSON.parse(data);
      if (!isObject(parsed)) return "";
      event = parsed;
    } catch {
      return "";
    }
    switch (event.type) {
      case "message_start": {
        const message = isObject(event.message) ? event.message : {};
        if (typeof message.id === "string") this.id = message.id;
        if (typeof message.model === "string") this.model = message.model;
        if (isObject(message.usage)) this.usage = { ...message.usage };
        this.sawStart = true;
        return this.chunk({ role: "assistant", content: "", refusal: null });
      }
      case "content_block_start": {
        const block = isObject(event.content_block) ? event.content_block : {};
        if (block.type === "tool_use" && typeof event.index === "number") {
          const index = this.toolIndex.size;
          this.toolIndex.set(event.index, index);
          this.outputBytes += encoder.encode(String(block.name ?? "")).length;
          return this.chunk({ tool_calls: [{ index, id: block.id, type: "function", function: { name: block.name, arguments: "" } }] });
        }
        if (block.type === "text" && typeof block.text === "string" && block.text !== "") return this.text(block.text);
        return "";
      }
      case "content_block_delta": {
        const delta = isObject(event.delta) ? event.delta : {};
        if (delta.type === "text_delta" && typeof delta.text === "string") return this.text(delta.text);
        if (delta.type === "input_json_delta" && typeof delta.partial_json === "string" && delta.partial_json !== "") {
          const index = typeof event.index === "number" ? this.toolIndex.get(event.index) : undefined;
          if (index === undefined) return "";
          this.outputBytes += encoder.encode(delta.partial_json).length;
          return this.chunk({ tool_calls: [{ index, function: { arguments: delta.partial_json } }] });
        }
        return "";
      }
      case "message_delta": {
        const delta = isObject(event.delta) ? event.delta : {};
        // message_delta's usage is cumulative: it replaces what message_start said.
        if (isObject(event.usage)) this.usage = { ...this.usage, ...event.usage };
        this.finishReason = finishReasonOf(delta.stop_reason);
        return this.finishReason === null ? "" : this.chunk({}, this.finishReason);
      }
      case "message_stop":
        return formatSseData(JSON.stringify({
          id: this.id,
          object: "chat.completion.chunk",
          created: this.opts.created,
          model: this.model,
          choices: [],
          usage: openAiUsageOf(this.usage),
        })) + formatSseData(SSE_DONE);
      case "error": {
        const err = isObject(event.error) ? event.error : {};
        return formatSseData(JSON.stringify({
          error: {
            message: typeof err.message === "string" ? err.message : "The provider reported an error mid-stream.",
            type: err.type === "overloaded_error" || err.type === "api_error" ? "server_error" : "invalid_request_error",
            param: null,
            code: typeof err.type === "string" ? err.type : null,
          },
        }));
      }
      default:
        // ping, content_block_stop, thinking deltas: nothing for an OpenAI client.
        return "";
    }
  }

  private text(text: string): string {
    this.outputBytes += encoder.encode(text).length;
    return this.chunk({ content: text });
  }
}
