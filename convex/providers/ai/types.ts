// What the proxy needs from an upstream AI provider. One adapter per provider; the proxy
// handlers speak OpenAI's wire format to clients and use this interface upstream.

import type { NormalizedUsage } from "../../model/usage/totals";

export type { NormalizedUsage };

export interface UpstreamRequest {
  /** Path under the provider's /v1 base, e.g. "/chat/completions". */
  path: string;
  method: "GET" | "POST";
  body?: unknown;
  signal?: AbortSignal;
}

export interface AiProvider {
  readonly id: string;
  /** Sends a request upstream and returns the raw response (status, headers, body stream). */
  send(request: UpstreamRequest): Promise<Response>;
  /** The provider's usage object (JSON or the final stream chunk) in our terms, or null. */
  translateUsageMetrics(raw: unknown): NormalizedUsage | null;
}

export class UpstreamUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "UpstreamUnavailableError";
  }
}
