// Token estimates for holds and for settling interrupted streams. Pure.
//
// A hold must be an UPPER bound of what the provider will count, or concurrent requests could
// overshoot the quota. OpenAI's tokenizers are byte-level BPE: every token covers at least one
// UTF-8 byte, so the byte length of the text bounds its token count from above. Framing costs
// a few tokens per message (3 + 1 for a name in OpenAI's published formula; we hold 4 + name)
// plus 3 to prime the reply. Images are held at the most a high-detail image can cost.

/**
 * The UTF-8 length of `text`, as TextEncoder would encode it (a lone surrogate becomes U+FFFD,
 * 3 bytes), counted without encoding: a prompt is measured on every request, and encoding a
 * long one only to read its length made a copy of it each time.
 */
export function utf8Bytes(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) bytes += 1;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      // A surrogate pair: 4 bytes for its two UTF-16 units.
      bytes += 2;
      i++;
    } else bytes += 2;
  }
  return bytes;
}

export const PER_MESSAGE_OVERHEAD = 4;
export const REPLY_PRIMING = 3;
/** gpt-4o high detail caps at 85 + 170 x 4 tiles = 765 tokens after resizing; hold double. */
export const IMAGE_PART_TOKENS = 1_530;

function jsonBytes(value: unknown): number {
  return value === undefined || value === null ? 0 : utf8Bytes(JSON.stringify(value));
}

function contentTokens(content: unknown): number {
  if (content === undefined || content === null) return 0;
  if (typeof content === "string") return utf8Bytes(content);
  if (Array.isArray(content)) {
    let total = 0;
    for (const part of content) {
      if (part && typeof part === "object") {
        const p = part as { type?: unknown; text?: unknown; refusal?: unknown };
        if (p.type === "image_url") total += IMAGE_PART_TOKENS;
        else if (typeof p.text === "string") total += utf8Bytes(p.text);
        else if (typeof p.refusal === "string") total += utf8Bytes(p.refusal);
        else total += jsonBytes(part);
      } else if (typeof part === "string") {
        total += utf8Bytes(part);
      }
    }
    return total;
  }
  return jsonBytes(content);
}

/** Upper bound of the prompt tokens the provider will count for a chat completion request. */
export function estimateChatPromptTokens(body: {
  messages: ReadonlyArray<unknown>;
  tools?: unknown;
  functions?: unknown;
  tool_choice?: unknown;
  response_format?: unknown;
}): number {
  let total = REPLY_PRIMING;
  for (const raw of body.messages) {
    const m = (raw ?? {}) as Record<string, unknown>;
    total += PER_MESSAGE_OVERHEAD;
    if (typeof m.role === "string") total += utf8Bytes(m.role);
    if (typeof m.name === "string") total += utf8Bytes(m.name) + 1;
    total += contentTokens(m.content);
    total += jsonBytes(m.tool_calls) + jsonBytes(m.function_call);
    if (typeof m.tool_call_id === "string") total += utf8Bytes(m.tool_call_id);
  }
  total += jsonBytes(body.tools) + jsonBytes(body.functions);
  total += jsonBytes(body.tool_choice) + jsonBytes(body.response_format);
  return total;
}

/**
 * Upper bound of an embeddings input: strings by bytes, token arrays exactly. Returns null
 * when the input has an invalid shape.
 */
export function estimateEmbeddingInputTokens(input: unknown): number | null {
  if (typeof input === "string") return Math.max(1, utf8Bytes(input));
  if (!Array.isArray(input) || input.length === 0) return null;
  if (input.every((x) => typeof x === "number")) return input.length;
  let total = 0;
  for (const item of input) {
    if (typeof item === "string") total += Math.max(1, utf8Bytes(item));
    else if (Array.isArray(item) && item.every((x) => typeof x === "number")) total += item.length;
    else return null;
  }
  return total;
}

/** Characters billed for speech: Unicode code points, as OpenAI counts them. */
export function speechCharacters(input: string): number {
  let n = 0;
  for (const _ of input) n++;
  return n;
}

/**
 * Output tokens of an interrupted stream, counted from the deltas received: OpenAI sends one
 * token per content chunk, so each choice's non-empty delta counts one token. Never more than
 * the output the request was allowed (the upstream was told that maximum).
 */
export class StreamedOutputCounter {
  private count = 0;

  constructor(private readonly maxOutputTokens: number) {}

  /** Feed one parsed `chat.completion.chunk` (or legacy `text_completion` chunk, whose choices carry `text`). */
  observe(chunk: unknown): void {
    const choices = (chunk as { choices?: unknown })?.choices;
    if (!Array.isArray(choices)) return;
    for (const choice of choices) {
      const { delta, text } = (choice ?? {}) as { delta?: Record<string, unknown>; text?: unknown };
      if ((delta && deltaHasOutput(delta)) || (typeof text === "string" && text.length > 0)) this.count++;
    }
  }

  get tokens(): number {
    return Math.min(this.count, this.maxOutputTokens);
  }
}

function deltaHasOutput(delta: Record<string, unknown>): boolean {
  for (const field of ["content", "refusal", "reasoning_content"]) {
    const value = delta[field];
    if (typeof value === "string" && value.length > 0) return true;
  }
  return (
    (Array.isArray(delta.tool_calls) && delta.tool_calls.length > 0) ||
    (delta.function_call !== undefined && delta.function_call !== null)
  );
}
