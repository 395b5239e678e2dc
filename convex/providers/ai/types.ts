// What the proxy needs from an upstream AI provider. One adapter per provider; the proxy
// handlers speak OpenAI's wire format to clients and use this interface upstream.

import type { ProviderId } from "../../model/pricing";
import type { NormalizedUsage } from "../../model/usage/totals";

export type { NormalizedUsage };

/** A provider's usage in our terms, with the prompt tokens it wrote to its cache (Anthropic). */
export interface ProviderUsage extends NormalizedUsage {
  /** Part of tokensIn written to the provider's prompt cache, billed at the cache-write rate. */
  cacheWriteTokensIn?: number;
}

export interface UpstreamRequest {
  /** Path under the provider's API base, e.g. "/chat/completions" or "/messages". */
  path: string;
  method: "GET" | "POST";
  body?: unknown;
  signal?: AbortSignal;
  /**
   * The master key this request was given at its start (providers/ai/masterKeys.ts), held for
   * every attempt so a switch of the active key never changes keys mid-request; absent: the
   * env's active key.
   */
  masterKey?: { id: string; value: string };
}

export interface AiProvider {
  readonly id: ProviderId;
  /** `owned_by` in /v1/models. */
  readonly ownedBy: string;
  /** True when this deployment has the provider's key; its models are unavailable otherwise. */
  configured(): boolean;
  /**
   * Sends a request upstream and returns the raw response (status, headers, body stream). A
   * failed response comes back with OpenAI's error body `{error: {message, type, param, code}}`
   * and OpenAI's status semantics (an overloaded provider is 503), whatever the provider's own
   * error format, so the proxy can pass it on unchanged.
   */
  send(request: UpstreamRequest): Promise<Response>;
  /**
   * The usage of a reply in our terms, or null: the provider's `usage` object as the proxy's
   * client sees it (for a provider whose replies the proxy translates into OpenAI's shape, the
   * translated one).
   */
  translateUsageMetrics(raw: unknown): ProviderUsage | null;
}

export class UpstreamUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "UpstreamUnavailableError";
  }
}
