import { describe, expect, it } from "vitest";
import { PLAN_IDS, PLANS } from "./plans";
import {
  endpointOf,
  isPriced,
  PRICE_BOOK,
  PRICE_VERSION,
  priceOf,
  PROVIDER_IDS,
  providerOf,
  speechCostMicros,
  tokenCostMicros,
  UnpricedModelError,
} from "./pricing";

describe("price book", () => {
  it("is versioned by date", () => {
    expect(PRICE_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("prices every model any plan lists", () => {
    for (const id of PLAN_IDS) {
      for (const model of PLANS[id].models) expect(isPriced(model), `${id}: ${model}`).toBe(true);
    }
  });

  it("holds only integer micro-dollar rates", () => {
    for (const price of Object.values(PRICE_BOOK)) {
      for (const value of Object.values(price)) {
        if (typeof value === "number") expect(Number.isInteger(value) && value >= 0).toBe(true);
      }
    }
  });

  it("refuses an unpriced model instead of treating it as free", () => {
    expect(() => priceOf("gpt-9-ultra")).toThrow(UnpricedModelError);
    expect(() => tokenCostMicros("gpt-9-ultra", { tokensIn: 10, tokensOut: 10 })).toThrow(UnpricedModelError);
    expect(isPriced("toString")).toBe(false);
    expect(isPriced("__proto__")).toBe(false);
  });
});

describe("costs", () => {
  it("bills input, cached input and output at their own rates", () => {
    // gpt-4o: $2.50 in, $1.25 cached, $10 out per 1M tokens.
    expect(tokenCostMicros("gpt-4o", { tokensIn: 1_000_000, tokensOut: 0 })).toBe(2_500_000);
    expect(tokenCostMicros("gpt-4o", { tokensIn: 0, tokensOut: 1_000_000 })).toBe(10_000_000);
    expect(tokenCostMicros("gpt-4o", { tokensIn: 1_000_000, cachedTokensIn: 400_000, tokensOut: 0 })).toBe(
      1_500_000 + 500_000,
    );
    expect(tokenCostMicros("gpt-4o-mini", { tokensIn: 1000, tokensOut: 500 })).toBe(150 + 300);
  });

  it("rounds up so a used request never costs zero", () => {
    expect(tokenCostMicros("text-embedding-3-small", { tokensIn: 3, tokensOut: 0 })).toBe(1);
    expect(tokenCostMicros("gpt-4o-mini", { tokensIn: 0, tokensOut: 0 })).toBe(0);
  });

  it("bills speech per character: tts-1 $15/1M, tts-1-hd $30/1M", () => {
    expect(speechCostMicros("tts-1", 1_000_000)).toBe(15_000_000);
    expect(speechCostMicros("tts-1-hd", 1_000_000)).toBe(30_000_000);
    expect(speechCostMicros("tts-1", 100)).toBe(1_500);
    expect(() => speechCostMicros("gpt-4o", 10)).toThrow(TypeError);
    expect(() => tokenCostMicros("tts-1", { tokensIn: 1, tokensOut: 0 })).toThrow(TypeError);
  });

  it("rejects negative or fractional counts", () => {
    expect(() => tokenCostMicros("gpt-4o", { tokensIn: -1, tokensOut: 0 })).toThrow(RangeError);
    expect(() => speechCostMicros("tts-1", 1.5)).toThrow(RangeError);
  });
});

describe("providers and endpoints", () => {
  it("names a known provider for every model", () => {
    for (const model of Object.keys(PRICE_BOOK)) expect(PROVIDER_IDS).toContain(providerOf(model));
    expect(providerOf("gpt-4o")).toBe("openai");
    expect(providerOf("claude-sonnet-4-5")).toBe("anthropic");
    expect(providerOf("gemini-2.5-flash")).toBe("gemini");
    expect(providerOf("eleven_multilingual_v2")).toBe("elevenlabs");
    expect(() => providerOf("gpt-9-ultra")).toThrow(UnpricedModelError);
  });

  it("routes each model to one endpoint", () => {
    expect(endpointOf("gpt-4o-mini")).toBe("chat");
    expect(endpointOf("gpt-3.5-turbo-instruct")).toBe("completion");
    expect(endpointOf("text-embedding-3-small")).toBe("embedding");
    expect(endpointOf("eleven_flash_v2_5")).toBe("speech");
    expect(endpointOf("claude-haiku-4-5")).toBe("chat");
  });

  it("keeps the long-prompt rates integer too", () => {
    for (const price of Object.values(PRICE_BOOK)) {
      if (price.kind === "speech" || !price.longPrompt) continue;
      for (const value of Object.values(price.longPrompt)) expect(Number.isInteger(value) && value >= 0).toBe(true);
    }
  });
});

describe("costs of the other providers", () => {
  it("bills Anthropic cache reads at 0.1x and cache writes at 1.25x input", () => {
    // claude-sonnet-4-5: $3 in, $0.30 cache read, $3.75 cache write, $15 out per 1M tokens.
    expect(tokenCostMicros("claude-sonnet-4-5", { tokensIn: 1_000_000, tokensOut: 1_000_000 })).toBe(18_000_000);
    expect(tokenCostMicros("claude-sonnet-4-5", {
      tokensIn: 1_000_000, cachedTokensIn: 500_000, cacheWriteTokensIn: 400_000, tokensOut: 0,
    })).toBe(100_000 * 3 + 500_000 * 0.3 + 400_000 * 3.75);
    // claude-haiku-4-5: $1 in, $0.10 read, $1.25 write, $5 out.
    expect(tokenCostMicros("claude-haiku-4-5", { tokensIn: 2_000, cachedTokensIn: 1_000, cacheWriteTokensIn: 500, tokensOut: 100 }))
      .toBe(Math.ceil((500 * 1 + 1_000 * 0.1 + 500 * 1.25 + 100 * 5)));
  });

  it("never counts a prompt token twice: writes are capped at the uncached remainder", () => {
    expect(tokenCostMicros("claude-haiku-4-5", { tokensIn: 100, cachedTokensIn: 80, cacheWriteTokensIn: 500, tokensOut: 0 }))
      .toBe(Math.ceil(80 * 0.1 + 20 * 1.25));
  });

  it("bills Gemini 2.5 Pro at the long-prompt rates past 200K prompt tokens", () => {
    expect(tokenCostMicros("gemini-2.5-pro", { tokensIn: 200_000, tokensOut: 1_000 })).toBe(200_000 * 1.25 + 1_000 * 10);
    expect(tokenCostMicros("gemini-2.5-pro", { tokensIn: 200_001, tokensOut: 1_000 })).toBe(Math.ceil(200_001 * 2.5 + 1_000 * 15));
    expect(tokenCostMicros("gemini-2.5-flash", { tokensIn: 300_000, tokensOut: 0 })).toBe(300_000 * 0.3);
  });

  it("bills ElevenLabs per character and the legacy instruct model per token", () => {
    expect(speechCostMicros("eleven_multilingual_v2", 1_000)).toBe(100_000);
    expect(speechCostMicros("eleven_flash_v2_5", 1_000)).toBe(50_000);
    expect(tokenCostMicros("gpt-3.5-turbo-instruct", { tokensIn: 1_000, tokensOut: 1_000 })).toBe(1_500 + 2_000);
  });
});
