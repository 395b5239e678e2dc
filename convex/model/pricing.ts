// The price book: what each upstream model costs us and the customer, versioned so a usage
// event records the exact prices it was charged at. Pure data plus arithmetic.
//
// Token prices are integer micro-dollars per 1M tokens (= micro-dollars per token x 1e6), so
// fractional per-token prices like $0.15/1M stay exact. Speech is per 1M characters.
//
// The price book is also where a model's provider is decided: each entry names the upstream
// that serves it, so adding a model is one line here (and one in a plan).

export const PRICE_VERSION = "2026-11-29";

/** The upstreams the proxy can call; each has an adapter in providers/ai/. */
export type ProviderId = "openai" | "anthropic" | "gemini" | "elevenlabs";
export const PROVIDER_IDS: readonly ProviderId[] = ["openai", "anthropic", "gemini", "elevenlabs"];

/** The OpenAI-compatible endpoint that serves a model. */
export type Endpoint = "chat" | "completion" | "embedding" | "speech";

export type TokenRates = {
  inputMicrosPerMTok: number;
  /** Prompt tokens read from the provider's cache. */
  cachedInputMicrosPerMTok: number;
  /** Prompt tokens written to the provider's cache (Anthropic bills writes above input). */
  cacheWriteMicrosPerMTok: number;
  outputMicrosPerMTok: number;
};
export type TokenPrice = TokenRates & {
  kind: "chat" | "embedding";
  provider: ProviderId;
  /** Served by the legacy /v1/completions endpoint instead of /v1/chat/completions. */
  legacyCompletions?: true;
  /**
   * Rates for the whole request once its prompt (cached and written tokens included) exceeds
   * `thresholdTokens`, as Gemini 2.5 Pro bills prompts over 200K tokens.
   */
  longPrompt?: TokenRates & { thresholdTokens: number };
};
export type SpeechPrice = { kind: "speech"; provider: ProviderId; microsPerMChars: number };
export type ModelPrice = TokenPrice | SpeechPrice;

const usd = (dollars: number) => Math.round(dollars * 1_000_000);
const rates = (input: number, cached: number, output: number, cacheWrite = input): TokenRates => ({
  inputMicrosPerMTok: usd(input),
  cachedInputMicrosPerMTok: usd(cached),
  cacheWriteMicrosPerMTok: usd(cacheWrite),
  outputMicrosPerMTok: usd(output),
});
const chat = (provider: ProviderId, input: number, cached: number, output: number, cacheWrite = input): TokenPrice => ({
  kind: "chat",
  provider,
  ...rates(input, cached, output, cacheWrite),
});
const embedding = (input: number): TokenPrice => ({ kind: "embedding", provider: "openai", ...rates(input, input, 0) });
const speech = (provider: ProviderId, dollarsPerMChars: number): SpeechPrice => ({
  kind: "speech",
  provider,
  microsPerMChars: usd(dollarsPerMChars),
});

/**
 * Dollars per 1M tokens (input, cached input, output[, cache write]) as each provider publishes
 * them; speech in dollars per 1M characters.
 */
export const PRICE_BOOK: Readonly<Record<string, ModelPrice>> = {
  // OpenAI: cached prompt tokens are discounted; writing the cache costs nothing extra.
  "gpt-4o": chat("openai", 2.5, 1.25, 10),
  "gpt-4o-mini": chat("openai", 0.15, 0.075, 0.6),
  "gpt-4.1": chat("openai", 2, 0.5, 8),
  "gpt-4.1-mini": chat("openai", 0.4, 0.1, 1.6),
  "gpt-4.1-nano": chat("openai", 0.1, 0.025, 0.4),
  "o4-mini": chat("openai", 1.1, 0.275, 4.4),
  "gpt-3.5-turbo-instruct": { ...chat("openai", 1.5, 1.5, 2), legacyCompletions: true },
  "text-embedding-3-small": embedding(0.02),
  "text-embedding-3-large": embedding(0.13),
  "tts-1": speech("openai", 15),
  "tts-1-hd": speech("openai", 30),
  // Anthropic: cache hits at 0.1x input, 5-minute cache writes at 1.25x input.
  "claude-sonnet-4-5": chat("anthropic", 3, 0.3, 15, 3.75),
  "claude-haiku-4-5": chat("anthropic", 1, 0.1, 5, 1.25),
  // Gemini (through Google's OpenAI-compatible endpoint); 2.5 Pro doubles past 200K prompt tokens.
  "gemini-2.5-flash": chat("gemini", 0.3, 0.03, 2.5),
  "gemini-2.5-pro": {
    ...chat("gemini", 1.25, 0.125, 10),
    longPrompt: { thresholdTokens: 200_000, ...rates(2.5, 0.25, 15) },
  },
  // ElevenLabs bills text to speech per character: $0.10 (Multilingual v2) or $0.05
  // (Flash/Turbo) per 1,000 characters.
  eleven_multilingual_v2: speech("elevenlabs", 100),
  eleven_flash_v2_5: speech("elevenlabs", 50),
  eleven_turbo_v2_5: speech("elevenlabs", 50),
};

export class UnpricedModelError extends Error {
  constructor(readonly model: string) {
    super(`The model '${model}' does not exist or is not available through Poindexter.`);
    this.name = "UnpricedModelError";
  }
}

export function isPriced(model: string): boolean {
  return Object.hasOwn(PRICE_BOOK, model);
}

/** The price of a model, or UnpricedModelError: an unknown model is never free. */
export function priceOf(model: string): ModelPrice {
  if (!isPriced(model)) throw new UnpricedModelError(model);
  return PRICE_BOOK[model];
}

/** The provider that serves a priced model (UnpricedModelError otherwise). */
export function providerOf(model: string): ProviderId {
  return priceOf(model).provider;
}

/** The endpoint that serves a priced model (UnpricedModelError otherwise). */
export function endpointOf(model: string): Endpoint {
  const price = priceOf(model);
  if (price.kind === "chat") return price.legacyCompletions ? "completion" : "chat";
  return price.kind;
}

export interface TokenUsage {
  tokensIn: number;
  /** Part of tokensIn served from the provider's prompt cache (billed at the cached rate). */
  cachedTokensIn?: number;
  /** Part of tokensIn written to the provider's prompt cache (billed at the cache-write rate). */
  cacheWriteTokensIn?: number;
  tokensOut: number;
}

/**
 * Cost in integer micro-dollars, rounded up: a request that used anything is never
 * recorded as costing nothing because of rounding.
 */
export function tokenCostMicros(model: string, usage: TokenUsage): number {
  const price = priceOf(model);
  if (price.kind === "speech") {
    throw new TypeError(`'${model}' is billed per character, not per token.`);
  }
  assertCount(usage.tokensIn, "tokensIn");
  assertCount(usage.tokensOut, "tokensOut");
  const cached = Math.min(usage.cachedTokensIn ?? 0, usage.tokensIn);
  assertCount(cached, "cachedTokensIn");
  const written = Math.min(usage.cacheWriteTokensIn ?? 0, usage.tokensIn - cached);
  assertCount(written, "cacheWriteTokensIn");
  const r: TokenRates = price.longPrompt && usage.tokensIn > price.longPrompt.thresholdTokens ? price.longPrompt : price;
  const scaled =
    (usage.tokensIn - cached - written) * r.inputMicrosPerMTok +
    cached * r.cachedInputMicrosPerMTok +
    written * r.cacheWriteMicrosPerMTok +
    usage.tokensOut * r.outputMicrosPerMTok;
  return Math.ceil(scaled / 1_000_000);
}

export function speechCostMicros(model: string, characters: number): number {
  const price = priceOf(model);
  if (price.kind !== "speech") {
    throw new TypeError(`'${model}' is billed per token, not per character.`);
  }
  assertCount(characters, "characters");
  return Math.ceil((characters * price.microsPerMChars) / 1_000_000);
}

function assertCount(n: number, name: string) {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name} must be a non-negative integer; got ${n}.`);
}
