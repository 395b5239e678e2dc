// The price book: what each upstream model costs us and the customer, versioned so a usage
// event records the exact prices it was charged at. Pure data plus arithmetic.
//
// Token prices are integer micro-dollars per 1M tokens (= micro-dollars per token x 1e6), so
// fractional per-token prices like $0.15/1M stay exact. Speech is per 1M characters.

export const PRICE_VERSION = "2026-11-01";

export type TokenPrice = {
  kind: "chat" | "embedding";
  inputMicrosPerMTok: number;
  cachedInputMicrosPerMTok: number;
  outputMicrosPerMTok: number;
};
export type SpeechPrice = { kind: "speech"; microsPerMChars: number };
export type ModelPrice = TokenPrice | SpeechPrice;

const usd = (dollars: number) => Math.round(dollars * 1_000_000);
const chat = (input: number, cached: number, output: number): TokenPrice => ({
  kind: "chat",
  inputMicrosPerMTok: usd(input),
  cachedInputMicrosPerMTok: usd(cached),
  outputMicrosPerMTok: usd(output),
});
const embedding = (input: number): TokenPrice => ({
  kind: "embedding",
  inputMicrosPerMTok: usd(input),
  cachedInputMicrosPerMTok: usd(input),
  outputMicrosPerMTok: 0,
});

/** Dollars per 1M tokens (input, cached input, output) as published by OpenAI. */
export const PRICE_BOOK: Readonly<Record<string, ModelPrice>> = {
  "gpt-4o": chat(2.5, 1.25, 10),
  "gpt-4o-mini": chat(0.15, 0.075, 0.6),
  "gpt-4.1": chat(2, 0.5, 8),
  "gpt-4.1-mini": chat(0.4, 0.1, 1.6),
  "gpt-4.1-nano": chat(0.1, 0.025, 0.4),
  "o4-mini": chat(1.1, 0.275, 4.4),
  "text-embedding-3-small": embedding(0.02),
  "text-embedding-3-large": embedding(0.13),
  "tts-1": { kind: "speech", microsPerMChars: usd(15) },
  "tts-1-hd": { kind: "speech", microsPerMChars: usd(30) },
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

export interface TokenUsage {
  tokensIn: number;
  /** Part of tokensIn served from the provider's prompt cache (billed at the cached rate). */
  cachedTokensIn?: number;
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
  const scaled =
    (usage.tokensIn - cached) * price.inputMicrosPerMTok +
    cached * price.cachedInputMicrosPerMTok +
    usage.tokensOut * price.outputMicrosPerMTok;
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
