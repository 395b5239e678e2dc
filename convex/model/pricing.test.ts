import { describe, expect, it } from "vitest";
import { PLAN_IDS, PLANS } from "./plans";
import {
  isPriced,
  PRICE_BOOK,
  PRICE_VERSION,
  priceOf,
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
