// Knob parsing: environment variables at startup and partial updates at run time.
import { describe, expect, it } from "vitest";
import { ConfigError, configFromEnv, DEFAULT_CONFIG, mergeConfig } from "./config.ts";

describe("simulator config", () => {
  it("reads SIMULATOR_* variables", () => {
    const fromEnv = configFromEnv({
      SIMULATOR_LATENCY_MS: "25",
      SIMULATOR_TOKEN_INTERVAL_MS: "3",
      SIMULATOR_FAIL_STATUS: "503",
      SIMULATOR_FAIL_PROBABILITY: "0.5",
      SIMULATOR_STRIPE_WEBHOOK_URL: "http://127.0.0.1:3211/webhooks/stripe",
      SIMULATOR_TELNYX_WEBHOOK_URL: "http://127.0.0.1:3211/webhooks/telnyx",
    });
    const config = mergeConfig(DEFAULT_CONFIG, fromEnv);
    expect(config).toMatchObject({
      latencyMs: 25,
      tokenIntervalMs: 3,
      fail: { status: 503, probability: 0.5, count: null },
      stripe: { webhookUrl: "http://127.0.0.1:3211/webhooks/stripe", webhookSecret: DEFAULT_CONFIG.stripe.webhookSecret },
      telnyx: { webhookUrl: "http://127.0.0.1:3211/webhooks/telnyx" },
    });
    expect(() => configFromEnv({ SIMULATOR_LATENCY_MS: "soon" })).toThrow(ConfigError);
  });

  it("merges nested provider knobs without dropping the rest", () => {
    const first = mergeConfig(DEFAULT_CONFIG, { polar: { priceAmounts: { a: 100 } } });
    const second = mergeConfig(first, { polar: { webhookUrl: "http://x.test/hook", priceAmounts: { b: 200 } } });
    expect(second.polar).toEqual({ webhookUrl: "http://x.test/hook", webhookSecret: DEFAULT_CONFIG.polar.webhookSecret, priceAmounts: { a: 100, b: 200 } });
    expect(DEFAULT_CONFIG.polar.priceAmounts).toEqual({});
  });

  it("refuses bad values with messages that name the knob", () => {
    expect(() => mergeConfig(DEFAULT_CONFIG, { stripe: { webhookUrl: 5 } })).toThrow("stripe.webhookUrl must be a string");
    expect(() => mergeConfig(DEFAULT_CONFIG, { signal: { requireCaptcha: "yes" } })).toThrow("signal.requireCaptcha must be a boolean");
    expect(() => mergeConfig(DEFAULT_CONFIG, { polar: { priceAmounts: { x: -1 } } })).toThrow("polar.priceAmounts.x");
    expect(() => mergeConfig(DEFAULT_CONFIG, { fail: { status: 503, probability: 2 } })).toThrow("fail.probability");
    expect(() => mergeConfig(DEFAULT_CONFIG, { streamCut: { afterChunks: -1 } })).toThrow("streamCut.afterChunks");
    expect(() => mergeConfig(DEFAULT_CONFIG, { slow: { count: 1 } })).toThrow("slow.latencyMs");
    expect(() => mergeConfig(DEFAULT_CONFIG, { slow: { latencyMs: 10, count: 0 } })).toThrow("slow.count");
  });
});
