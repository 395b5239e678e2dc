// What the proxy needs from an upstream AI provider. One adapter per provider; the proxy
// handlers speak OpenAI's wire format to clients and use this interface upstream.
import type { ModelPrice } from "../model/pricing";

/** Usage normalised from a provider's own report. */
export interface NormalizedUsage {
  tokensIn: number;
  cachedTokensIn: number;
  tokensOut: number;
  characters: number;
}

export interface IssuedCredential {
  /** The provider's id for the credential, used to revoke it. */
  credentialId: string;
  /** The secret itself: hash or encrypt it before storing, never log it. */
  secret: string;
}

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
  /** Mints a credential scoped to one customer (for direct provider access). */
  issueCredential(opts: { label: string }): Promise<IssuedCredential>;
  revokeCredential(credentialId: string): Promise<void>;
  /** Cost in micro-dollars of a usage at the current price book. Throws for unpriced models. */
  estimateCost(model: string, usage: NormalizedUsage): number;
  /** The provider's usage object (JSON or the final stream chunk) in our terms, or null. */
  translateUsageMetrics(raw: unknown): NormalizedUsage | null;
  /** The price-book entry a model is billed at (throws UnpricedModelError). */
  price(model: string): ModelPrice;
}

export class UpstreamUnavailableError extends Error {
  constructor(message: string, readonly cause?: unknown) {
    super(message);
    this.name = "UpstreamUnavailableError";
  }
}
