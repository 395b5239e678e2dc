/**
 * Simulator behaviour knobs: the shape, defaults, environment parsing and validation of updates
 * posted to `POST /_sim/config`. Every knob is documented in dev/simulator/README.md.
 */

export interface FailureRule {
  /** HTTP status to answer with (400..599). */
  status: number;
  /** Fail the next `count` matching requests, then clear the rule. null: no count limit. */
  count: number | null;
  /** Fail each matching request with this probability (seeded PRNG). Default 1. */
  probability: number;
  /** Only requests whose path starts with this prefix. null: every provider route. */
  pathPrefix: string | null;
  /** Sent as `retry-after` (seconds) when set. */
  retryAfterSeconds: number | null;
  /** false sends `x-should-retry: false` so the OpenAI SDK does not retry; true sends "true". */
  shouldRetry: boolean | null;
  /** Overrides the provider's default error message and code for this status. */
  message: string | null;
  code: string | null;
}

export interface StreamCutRule {
  /** Close the socket after this many SSE events (the role chunk is event 1). */
  afterChunks: number;
  /** Cut the next `count` streams, then clear the rule. null: every stream. */
  count: number | null;
}

export interface SlowRule {
  /** Extra milliseconds before the first byte (on top of `latencyMs`). */
  latencyMs: number;
  /** Slow down the next `count` matching requests, then clear the rule. null: every request. */
  count: number | null;
  /** Only requests whose path starts with this prefix. null: every provider route. */
  pathPrefix: string | null;
}

export interface RateLimitConfig {
  requestsPerMinute: number;
  tokensPerMinute: number;
}

export interface StripeConfig {
  /** Where signed webhooks go (the app's /webhooks/stripe); null: events are only logged. */
  webhookUrl: string | null;
  /** The `whsec_...` signing secret the app verifies with. */
  webhookSecret: string;
  /** Unit amount in cents per price id, for invoices; unknown prices bill 0. */
  priceAmounts: Record<string, number>;
  /**
   * Metered prices by id: the meter event name they bill and the price per unit in cents as a
   * decimal string (`unit_amount_decimal`). A subscription item with one of these prices is
   * billed in arrears from the customer's meter events; each named event gets a meter.
   */
  meteredPrices: Record<string, MeteredPrice>;
}

export interface MeteredPrice {
  eventName: string;
  unitAmountDecimal: string;
}

export interface PolarConfig {
  /** Where Standard Webhooks go (the app's /webhooks/polar). */
  webhookUrl: string | null;
  /** The secret the app passes to validateEvent. */
  webhookSecret: string;
  /** Monthly price in cents per product id; unknown products cost 0. */
  priceAmounts: Record<string, number>;
}

export interface TelnyxConfig {
  /** Where `message.received` webhooks go (the app's /webhooks/telnyx). */
  webhookUrl: string | null;
}

export interface SignalConfig {
  /** Registration without a `captcha` answers 400 "captcha required", as Signal often does. */
  requireCaptcha: boolean;
}

/**
 * Latency and random failures for one provider family's routes (Google, Telnyx, Signal), on top
 * of the global knobs: what a benchmark of identity provisioning needs (100-300 ms, 5 % 503s).
 */
export interface ProviderFault {
  /** Each response waits a uniform random time in [latencyMinMs, latencyMaxMs]. */
  latencyMinMs: number;
  latencyMaxMs: number;
  /** Share of requests answered with `failStatus` instead (seeded PRNG). */
  failProbability: number;
  failStatus: number;
  /**
   * AI providers' streams only: share of streams whose socket is destroyed after a uniform random
   * number of events in [cutAfterMinChunks, cutAfterMaxChunks] (seeded PRNG), as an upstream that
   * dies mid-answer (the soak test's 2 % stream cuts). 0 by default.
   */
  cutProbability: number;
  cutAfterMinChunks: number;
  cutAfterMaxChunks: number;
}

export const FAULT_PROVIDERS = ["google", "telnyx", "signal", "openai", "anthropic", "gemini"] as const;
export type FaultProvider = (typeof FAULT_PROVIDERS)[number];

export interface SimulatorConfig {
  /** Milliseconds before the first byte of every provider response. */
  latencyMs: number;
  /** Milliseconds between streamed chunks (JSON replies wait the same total generation time). */
  tokenIntervalMs: number;
  /** Fixed visible completion length in tokens; null uses the prompt-hash length. */
  completionTokens: number | null;
  fail: FailureRule | null;
  streamCut: StreamCutRule | null;
  /** A provider that is slow to answer some requests (a stalled connection, a cold start). */
  slow: SlowRule | null;
  rateLimit: RateLimitConfig;
  /**
   * Simulate OpenAI's prompt cache: a chat whose leading messages were seen before reports them
   * as cached_tokens. Off by default, so usage stays a pure function of each request.
   */
  promptCache: boolean;
  /** Accepted OpenAI keys; null accepts any `sk-` key except `sk-sim-invalid`. */
  apiKeys: string[] | null;
  /** How many requests `GET /_sim/requests` keeps. */
  requestLogSize: number;
  /** Seed of the PRNG behind probabilistic failures. */
  seed: number;
  stripe: StripeConfig;
  polar: PolarConfig;
  telnyx: TelnyxConfig;
  signal: SignalConfig;
  /** Per provider family, latency and failure rate of its routes (null: none). */
  providerFaults: Record<FaultProvider, ProviderFault | null>;
}

/** What callers may send: every knob optional, nested rules with their defaults filled in. */
export type ConfigPatch = Partial<Omit<SimulatorConfig, "fail" | "streamCut" | "slow" | "rateLimit" | "stripe" | "polar" | "telnyx" | "signal" | "providerFaults">> & {
  providerFaults?: Partial<Record<FaultProvider, Partial<ProviderFault> | null>>;
  polar?: Partial<PolarConfig>;
  telnyx?: Partial<TelnyxConfig>;
  signal?: Partial<SignalConfig>;
  fail?: (Partial<FailureRule> & { status: number }) | null;
  streamCut?: (Partial<StreamCutRule> & { afterChunks: number }) | null;
  slow?: (Partial<SlowRule> & { latencyMs: number }) | null;
  rateLimit?: Partial<RateLimitConfig>;
  stripe?: Partial<StripeConfig>;
};

export const DEFAULT_CONFIG: SimulatorConfig = {
  latencyMs: 0,
  tokenIntervalMs: 0,
  completionTokens: null,
  fail: null,
  streamCut: null,
  slow: null,
  rateLimit: { requestsPerMinute: 30_000, tokensPerMinute: 150_000_000 },
  promptCache: false,
  apiKeys: null,
  requestLogSize: 200,
  seed: 1,
  stripe: { webhookUrl: null, webhookSecret: "whsec_simulator_stripe", priceAmounts: {}, meteredPrices: {} },
  polar: { webhookUrl: null, webhookSecret: "polar_whs_simulator", priceAmounts: {} },
  telnyx: { webhookUrl: null },
  signal: { requireCaptcha: false },
  providerFaults: { google: null, telnyx: null, signal: null, openai: null, anthropic: null, gemini: null },
};

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function int(value: unknown, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(`${name} must be an integer between ${min} and ${max}, got ${JSON.stringify(value)}`);
  }
  return value;
}

function nullable<T>(value: unknown, parse: (v: unknown) => T): T | null {
  return value === null || value === undefined ? null : parse(value);
}

function str(value: unknown, name: string): string {
  if (typeof value !== "string") throw new ConfigError(`${name} must be a string`);
  return value;
}

function parseFailure(value: unknown): FailureRule {
  if (!isObject(value)) throw new ConfigError("fail must be an object like {status: 503, count: 1}");
  const probability = value.probability ?? 1;
  if (typeof probability !== "number" || probability < 0 || probability > 1) {
    throw new ConfigError("fail.probability must be a number between 0 and 1");
  }
  if (value.shouldRetry !== undefined && value.shouldRetry !== null && typeof value.shouldRetry !== "boolean") {
    throw new ConfigError("fail.shouldRetry must be a boolean");
  }
  return {
    status: int(value.status, "fail.status", 400, 599),
    count: nullable(value.count, (v) => int(v, "fail.count", 1)),
    probability,
    pathPrefix: nullable(value.pathPrefix, (v) => str(v, "fail.pathPrefix")),
    retryAfterSeconds: nullable(value.retryAfterSeconds, (v) => int(v, "fail.retryAfterSeconds", 0)),
    shouldRetry: (value.shouldRetry as boolean | undefined) ?? null,
    message: nullable(value.message, (v) => str(v, "fail.message")),
    code: nullable(value.code, (v) => str(v, "fail.code")),
  };
}

function parseStreamCut(value: unknown): StreamCutRule {
  if (!isObject(value)) throw new ConfigError("streamCut must be an object like {afterChunks: 3}");
  return {
    afterChunks: int(value.afterChunks, "streamCut.afterChunks", 0),
    count: nullable(value.count, (v) => int(v, "streamCut.count", 1)),
  };
}

function parseSlow(value: unknown): SlowRule {
  if (!isObject(value)) throw new ConfigError("slow must be an object like {latencyMs: 2000, count: 1}");
  return {
    latencyMs: int(value.latencyMs, "slow.latencyMs", 0, 600_000),
    count: nullable(value.count, (v) => int(v, "slow.count", 1)),
    pathPrefix: nullable(value.pathPrefix, (v) => str(v, "slow.pathPrefix")),
  };
}

function parseStripe(base: StripeConfig, value: unknown): StripeConfig {
  if (!isObject(value)) throw new ConfigError("stripe must be an object like {webhookUrl, webhookSecret}");
  const next = { ...base, priceAmounts: { ...base.priceAmounts }, meteredPrices: { ...base.meteredPrices } };
  if (value.webhookUrl !== undefined) next.webhookUrl = nullable(value.webhookUrl, (v) => str(v, "stripe.webhookUrl"));
  if (value.webhookSecret !== undefined) next.webhookSecret = str(value.webhookSecret, "stripe.webhookSecret");
  if (value.priceAmounts !== undefined) {
    if (!isObject(value.priceAmounts)) throw new ConfigError("stripe.priceAmounts must map price ids to cents");
    for (const [price, cents] of Object.entries(value.priceAmounts)) next.priceAmounts[price] = int(cents, `stripe.priceAmounts.${price}`, 0);
  }
  if (value.meteredPrices !== undefined) {
    if (!isObject(value.meteredPrices)) throw new ConfigError("stripe.meteredPrices must map price ids to {eventName, unitAmountDecimal}");
    for (const [price, metered] of Object.entries(value.meteredPrices)) {
      const name = `stripe.meteredPrices.${price}`;
      if (!isObject(metered)) throw new ConfigError(`${name} must be {eventName, unitAmountDecimal}`);
      const eventName = str(metered.eventName, `${name}.eventName`);
      const unitAmountDecimal = str(metered.unitAmountDecimal, `${name}.unitAmountDecimal`);
      if (eventName === "") throw new ConfigError(`${name}.eventName must not be empty`);
      if (!/^\d+(\.\d{1,12})?$/.test(unitAmountDecimal)) throw new ConfigError(`${name}.unitAmountDecimal must be cents as a decimal string with at most 12 places, like "0.0003"`);
      next.meteredPrices[price] = { eventName, unitAmountDecimal };
    }
  }
  return next;
}

const KNOWN_KEYS = new Set(Object.keys(DEFAULT_CONFIG));

function parseProviderFaults(base: SimulatorConfig["providerFaults"], value: unknown): SimulatorConfig["providerFaults"] {
  if (!isObject(value)) throw new ConfigError(`providerFaults must be an object keyed by ${FAULT_PROVIDERS.join(", ")}`);
  const next = { ...base };
  for (const [name, fault] of Object.entries(value)) {
    if (!(FAULT_PROVIDERS as readonly string[]).includes(name)) throw new ConfigError(`providerFaults.${name}: unknown provider; known: ${FAULT_PROVIDERS.join(", ")}`);
    const key = name as FaultProvider;
    if (fault === null) {
      next[key] = null;
      continue;
    }
    if (!isObject(fault)) throw new ConfigError(`providerFaults.${name} must be {latencyMinMs, latencyMaxMs, failProbability, failStatus, cutProbability?, cutAfterMinChunks?, cutAfterMaxChunks?} or null`);
    const merged = { latencyMinMs: 0, latencyMaxMs: 0, failProbability: 0, failStatus: 503, cutProbability: 0, cutAfterMinChunks: 1, cutAfterMaxChunks: 1, ...(base[key] ?? {}), ...fault };
    const latencyMinMs = int(merged.latencyMinMs, `providerFaults.${name}.latencyMinMs`, 0, 600_000);
    const latencyMaxMs = int(merged.latencyMaxMs, `providerFaults.${name}.latencyMaxMs`, 0, 600_000);
    if (latencyMaxMs < latencyMinMs) throw new ConfigError(`providerFaults.${name}.latencyMaxMs must be >= latencyMinMs`);
    const failProbability = merged.failProbability;
    if (typeof failProbability !== "number" || failProbability < 0 || failProbability > 1) {
      throw new ConfigError(`providerFaults.${name}.failProbability must be a number between 0 and 1`);
    }
    const cutProbability = merged.cutProbability;
    if (typeof cutProbability !== "number" || cutProbability < 0 || cutProbability > 1) {
      throw new ConfigError(`providerFaults.${name}.cutProbability must be a number between 0 and 1`);
    }
    const cutAfterMinChunks = int(merged.cutAfterMinChunks, `providerFaults.${name}.cutAfterMinChunks`, 0, 100_000);
    const cutAfterMaxChunks = int(merged.cutAfterMaxChunks, `providerFaults.${name}.cutAfterMaxChunks`, 0, 100_000);
    if (cutAfterMaxChunks < cutAfterMinChunks) throw new ConfigError(`providerFaults.${name}.cutAfterMaxChunks must be >= cutAfterMinChunks`);
    next[key] = {
      latencyMinMs,
      latencyMaxMs,
      failProbability,
      failStatus: int(merged.failStatus, `providerFaults.${name}.failStatus`, 400, 599),
      cutProbability,
      cutAfterMinChunks,
      cutAfterMaxChunks,
    };
  }
  return next;
}

/** Applies a partial update (from options or `POST /_sim/config`) on top of `base`. */
export function mergeConfig(base: SimulatorConfig, update: unknown): SimulatorConfig {
  if (!isObject(update)) throw new ConfigError("config update must be a JSON object");
  for (const key of Object.keys(update)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`unknown config key "${key}"; known: ${[...KNOWN_KEYS].join(", ")}`);
  }
  const next: SimulatorConfig = { ...base, rateLimit: { ...base.rateLimit } };
  if (update.latencyMs !== undefined) next.latencyMs = int(update.latencyMs, "latencyMs", 0, 600_000);
  if (update.tokenIntervalMs !== undefined) next.tokenIntervalMs = int(update.tokenIntervalMs, "tokenIntervalMs", 0, 60_000);
  if (update.completionTokens !== undefined) {
    next.completionTokens = nullable(update.completionTokens, (v) => int(v, "completionTokens", 0, 100_000));
  }
  if (update.fail !== undefined) next.fail = nullable(update.fail, parseFailure);
  if (update.streamCut !== undefined) next.streamCut = nullable(update.streamCut, parseStreamCut);
  if (update.slow !== undefined) next.slow = nullable(update.slow, parseSlow);
  if (update.rateLimit !== undefined) {
    if (!isObject(update.rateLimit)) throw new ConfigError("rateLimit must be an object");
    if (update.rateLimit.requestsPerMinute !== undefined) {
      next.rateLimit.requestsPerMinute = int(update.rateLimit.requestsPerMinute, "rateLimit.requestsPerMinute", 1);
    }
    if (update.rateLimit.tokensPerMinute !== undefined) {
      next.rateLimit.tokensPerMinute = int(update.rateLimit.tokensPerMinute, "rateLimit.tokensPerMinute", 1);
    }
  }
  if (update.promptCache !== undefined) {
    if (typeof update.promptCache !== "boolean") throw new ConfigError("promptCache must be a boolean");
    next.promptCache = update.promptCache;
  }
  if (update.apiKeys !== undefined) {
    next.apiKeys = nullable(update.apiKeys, (v) => {
      if (!Array.isArray(v) || !v.every((k) => typeof k === "string")) throw new ConfigError("apiKeys must be an array of strings");
      return v as string[];
    });
  }
  if (update.requestLogSize !== undefined) next.requestLogSize = int(update.requestLogSize, "requestLogSize", 1, 100_000);
  if (update.seed !== undefined) next.seed = int(update.seed, "seed", 0, 0xffffffff);
  if (update.stripe !== undefined) next.stripe = parseStripe(base.stripe, update.stripe);
  if (update.providerFaults !== undefined) next.providerFaults = parseProviderFaults(base.providerFaults, update.providerFaults);
  if (update.polar !== undefined) {
    if (!isObject(update.polar)) throw new ConfigError("polar must be an object like {webhookUrl, webhookSecret}");
    const polar = { ...base.polar, priceAmounts: { ...base.polar.priceAmounts } };
    if (update.polar.webhookUrl !== undefined) polar.webhookUrl = nullable(update.polar.webhookUrl, (v) => str(v, "polar.webhookUrl"));
    if (update.polar.webhookSecret !== undefined) polar.webhookSecret = str(update.polar.webhookSecret, "polar.webhookSecret");
    if (update.polar.priceAmounts !== undefined) {
      if (!isObject(update.polar.priceAmounts)) throw new ConfigError("polar.priceAmounts must map product ids to cents");
      for (const [id, cents] of Object.entries(update.polar.priceAmounts)) polar.priceAmounts[id] = int(cents, `polar.priceAmounts.${id}`, 0);
    }
    next.polar = polar;
  }
  if (update.telnyx !== undefined) {
    if (!isObject(update.telnyx)) throw new ConfigError("telnyx must be an object like {webhookUrl}");
    next.telnyx = {
      webhookUrl: update.telnyx.webhookUrl === undefined ? base.telnyx.webhookUrl : nullable(update.telnyx.webhookUrl, (v) => str(v, "telnyx.webhookUrl")),
    };
  }
  if (update.signal !== undefined) {
    if (!isObject(update.signal)) throw new ConfigError("signal must be an object like {requireCaptcha}");
    const requireCaptcha = update.signal.requireCaptcha ?? base.signal.requireCaptcha;
    if (typeof requireCaptcha !== "boolean") throw new ConfigError("signal.requireCaptcha must be a boolean");
    next.signal = { requireCaptcha };
  }
  return next;
}

/** Startup knobs from the environment (SIMULATOR_*); options passed in code win over these. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<SimulatorConfig> {
  const out: Partial<SimulatorConfig> = {};
  const number = (name: string) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new ConfigError(`${name} must be a number, got "${raw}"`);
    return value;
  };
  const latency = number("SIMULATOR_LATENCY_MS");
  if (latency !== undefined) out.latencyMs = latency;
  const interval = number("SIMULATOR_TOKEN_INTERVAL_MS");
  if (interval !== undefined) out.tokenIntervalMs = interval;
  const completion = number("SIMULATOR_COMPLETION_TOKENS");
  if (completion !== undefined) out.completionTokens = completion;
  const stripeUrl = env.SIMULATOR_STRIPE_WEBHOOK_URL;
  const stripeSecret = env.SIMULATOR_STRIPE_WEBHOOK_SECRET;
  if (stripeUrl || stripeSecret) {
    out.stripe = parseStripe(DEFAULT_CONFIG.stripe, {
      ...(stripeUrl ? { webhookUrl: stripeUrl } : {}),
      ...(stripeSecret ? { webhookSecret: stripeSecret } : {}),
    });
  }
  if (env.SIMULATOR_POLAR_WEBHOOK_URL || env.SIMULATOR_POLAR_WEBHOOK_SECRET) {
    out.polar = {
      ...DEFAULT_CONFIG.polar,
      ...(env.SIMULATOR_POLAR_WEBHOOK_URL ? { webhookUrl: env.SIMULATOR_POLAR_WEBHOOK_URL } : {}),
      ...(env.SIMULATOR_POLAR_WEBHOOK_SECRET ? { webhookSecret: env.SIMULATOR_POLAR_WEBHOOK_SECRET } : {}),
    };
  }
  if (env.SIMULATOR_TELNYX_WEBHOOK_URL) out.telnyx = { webhookUrl: env.SIMULATOR_TELNYX_WEBHOOK_URL };
  const failStatus = number("SIMULATOR_FAIL_STATUS");
  if (failStatus !== undefined) {
    out.fail = parseFailure({ status: failStatus, probability: number("SIMULATOR_FAIL_PROBABILITY") ?? 1 });
  }
  return out;
}
