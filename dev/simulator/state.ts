/**
 * Mutable simulator state: the current knobs, the request log, the rate-limit window and the
 * seeded PRNG behind probabilistic failures. `reset()` returns everything to the startup config.
 */
import { mergeConfig, type SimulatorConfig } from "./config.ts";
import { mulberry32 } from "./tokens.ts";

/** Headers never written to the request log: credentials stay out of test output. */
const SECRET_HEADERS = new Set(["authorization", "x-api-key", "xi-api-key", "cookie", "proxy-authorization", "x-goog-api-key"]);

export interface RequestLogEntry {
  seq: number;
  at: number;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Parsed JSON when the body is JSON, the text otherwise, null when empty. */
  body: unknown;
  status: number | null;
  /** completed | failed (injected or provider error) | cut (stream cut by the simulator) | client_closed */
  outcome: "pending" | "completed" | "failed" | "cut" | "client_closed";
  durationMs: number | null;
  /** The `x-request-id` the simulator answered this request with. */
  requestId?: string;
  /**
   * AI routes: the usage the reply carries and, for a stream, how far it got (GET /_sim/served).
   * Absent when the request never reached a reply (injected failure, validation error).
   */
  served?: ServedReply;
}

/** What an AI route planned to answer, and how much of it was written. */
export interface ServedReply {
  /** The provider's own usage object of this reply, as it would be on the wire. */
  usage: unknown;
  stream: boolean;
  /** SSE events written before the stream ended, was cut or the client left (streams). */
  eventsWritten: number;
  eventsTotal: number;
  /** Index of the event that carries the usage (streams; null when none does). */
  usageEvent: number | null;
}

/** One webhook the simulator sent (or tried to send) to the app. */
export interface WebhookDelivery {
  seq: number;
  at: number;
  provider: string;
  url: string;
  eventType: string;
  eventId: string;
  headers: Record<string, string>;
  body: string;
  /** The delivery this one repeats, for redeliveries. */
  redeliveryOf: number | null;
  /** The app's HTTP status; null when it could not be reached (see error). */
  status: number | null;
  error: string | null;
}

export interface RateWindow {
  startedAt: number;
  requests: number;
  tokens: number;
}

export class SimulatorState {
  config: SimulatorConfig;
  private readonly initial: SimulatorConfig;
  private log: RequestLogEntry[] = [];
  private seq = 0;
  private random: () => number;
  rate: RateWindow = { startedAt: Date.now(), requests: 0, tokens: 0 };
  private deliveries: WebhookDelivery[] = [];
  private deliverySeq = 0;
  private readonly resetListeners: (() => void)[] = [];

  constructor(config: SimulatorConfig) {
    this.initial = config;
    this.config = config;
    this.random = mulberry32(config.seed);
  }

  update(patch: unknown): SimulatorConfig {
    const next = mergeConfig(this.config, patch);
    if (next.seed !== this.config.seed) this.random = mulberry32(next.seed);
    this.config = next;
    this.trimLog();
    return next;
  }

  reset(): void {
    this.config = this.initial;
    this.log = [];
    this.seq = 0;
    this.random = mulberry32(this.initial.seed);
    this.rate = { startedAt: Date.now(), requests: 0, tokens: 0 };
    this.deliveries = [];
    this.deliverySeq = 0;
    for (const listener of this.resetListeners) listener();
  }

  /** Provider modules keep their objects (customers, numbers...) and clear them on reset. */
  onReset(listener: () => void): void {
    this.resetListeners.push(listener);
  }

  recordDelivery(delivery: Omit<WebhookDelivery, "seq">): WebhookDelivery {
    const logged = { ...delivery, seq: ++this.deliverySeq };
    this.deliveries.push(logged);
    if (this.deliveries.length > this.config.requestLogSize) this.deliveries.shift();
    return logged;
  }

  webhookDeliveries(provider?: string): WebhookDelivery[] {
    return provider ? this.deliveries.filter((d) => d.provider === provider) : [...this.deliveries];
  }

  record(entry: Omit<RequestLogEntry, "seq" | "headers"> & { headers: Record<string, string | string[] | undefined> }): RequestLogEntry {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(entry.headers)) {
      if (value === undefined || SECRET_HEADERS.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const logged: RequestLogEntry = { ...entry, headers, seq: ++this.seq };
    this.log.push(logged);
    this.trimLog();
    return logged;
  }

  requests(options: { limit?: number; pathPrefix?: string } = {}): RequestLogEntry[] {
    const matching = options.pathPrefix ? this.log.filter((e) => e.path.startsWith(options.pathPrefix!)) : this.log;
    return options.limit ? matching.slice(-options.limit) : [...matching];
  }

  private trimLog(): void {
    const excess = this.log.length - this.config.requestLogSize;
    if (excess > 0) this.log.splice(0, excess);
  }

  /**
   * Whether the configured failure rule hits this request. A counted rule is consumed by each hit
   * and cleared when exhausted, so "fail the next K requests" needs no follow-up call.
   */
  takeFailure(path: string): SimulatorConfig["fail"] {
    const rule = this.config.fail;
    if (!rule) return null;
    if (rule.pathPrefix && !path.startsWith(rule.pathPrefix)) return null;
    if (rule.probability < 1 && this.random() >= rule.probability) return null;
    if (rule.count !== null) {
      const remaining = rule.count - 1;
      this.config = { ...this.config, fail: remaining > 0 ? { ...rule, count: remaining } : null };
    }
    return rule;
  }

  /** A provider family's latency for this request and whether it fails (providerFaults knob). */
  takeProviderFault(provider: string): { latencyMs: number; failStatus: number | null } | null {
    const family = provider === "google-oauth" ? "google" : provider;
    const fault = (this.config.providerFaults as Record<string, SimulatorConfig["providerFaults"]["google"] | undefined>)[family];
    if (!fault) return null;
    const latencyMs = Math.round(fault.latencyMinMs + this.random() * (fault.latencyMaxMs - fault.latencyMinMs));
    const fails = fault.failProbability > 0 && this.random() < fault.failProbability;
    return { latencyMs, failStatus: fails ? fault.failStatus : null };
  }

  /**
   * Where a provider family's fault rule cuts this stream (providerFaults `cutProbability`), or
   * null: a uniform draw in [cutAfterMinChunks, cutAfterMaxChunks] with that probability.
   */
  takeProviderStreamCut(provider: string): number | null {
    const fault = (this.config.providerFaults as Record<string, SimulatorConfig["providerFaults"]["google"] | undefined>)[provider];
    if (!fault || fault.cutProbability <= 0 || this.random() >= fault.cutProbability) return null;
    return fault.cutAfterMinChunks + Math.floor(this.random() * (fault.cutAfterMaxChunks - fault.cutAfterMinChunks + 1));
  }

  /** Extra latency for this request (slow knob), consuming a counted rule like takeFailure. */
  takeSlow(path: string): number {
    const rule = this.config.slow;
    if (!rule || (rule.pathPrefix && !path.startsWith(rule.pathPrefix))) return 0;
    if (rule.count !== null) {
      const remaining = rule.count - 1;
      this.config = { ...this.config, slow: remaining > 0 ? { ...rule, count: remaining } : null };
    }
    return rule.latencyMs;
  }

  /** The cut point for a new stream, consuming a counted rule like takeFailure. */
  takeStreamCut(): number | null {
    const rule = this.config.streamCut;
    if (!rule) return null;
    if (rule.count !== null) {
      const remaining = rule.count - 1;
      this.config = { ...this.config, streamCut: remaining > 0 ? { ...rule, count: remaining } : null };
    }
    return rule.afterChunks;
  }

  /** Rolls the one-minute rate window forward when it has elapsed. */
  currentWindow(now = Date.now()): RateWindow {
    if (now - this.rate.startedAt >= 60_000) this.rate = { startedAt: now, requests: 0, tokens: 0 };
    return this.rate;
  }
}

/**
 * A provider module's store, one per simulator instance: created on first use and emptied
 * in place on /_sim/reset (so references handlers already hold stay valid).
 */
export function perStateStore<T extends object>(empty: () => T): (state: SimulatorState) => T {
  const stores = new WeakMap<SimulatorState, T>();
  return (state) => {
    let store = stores.get(state);
    if (!store) {
      const created = empty();
      store = created;
      stores.set(state, created);
      state.onReset(() => Object.assign(created, empty()));
    }
    return store;
  };
}
