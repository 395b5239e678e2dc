// The one classification every identity adapter (google.ts, telnyx.ts, signal.ts) maps its
// provider's errors to. The identity issue (#10) wires the adapters into provisioning steps run
// through the workpool: what may pass on another attempt is THROWN (RetryableProviderError, so
// the workpool retries with backoff); everything else RESOLVES as a typed outcome the step
// records on the identity row (and, for `permanent`, raises an admin alert).

export type IdentityProvider = "google" | "telnyx" | "signal";

/** A failure that no automatic retry can fix, as a step records it. */
export type ProviderFailure =
  /** The resource exists already (409); the adapter's ensure* helpers resolve it by lookup. */
  | { kind: "conflict"; provider: IdentityProvider; status: number; message: string }
  /** Signal wants a captcha solved by a person (or the one given was rejected). */
  | { kind: "captcha_required"; provider: "signal"; message: string }
  /** Signal's registration lockout: no automatic retry (failed tries extend it). `until`: epoch ms, null when unknown. */
  | { kind: "rate_limited_until"; provider: "signal"; until: number | null; message: string }
  /** Invalid domain, bad credentials, delegation denied, wrong code, other 4xx: stop and alert. */
  | { kind: "permanent"; provider: IdentityProvider; status: number; code: string | null; message: string };

export type ProviderOutcome<T> = { kind: "ok"; value: T } | ProviderFailure;

export type FailureKind = ProviderFailure["kind"] | "retryable";

/** Network errors, 5xx, 429, Google's 403 rate limits and "User creation is not complete". */
export class RetryableProviderError extends Error {
  readonly provider: IdentityProvider;
  readonly status: number | null;
  readonly code: string | null;
  constructor(provider: IdentityProvider, message: string, status: number | null = null, code: string | null = null) {
    super(message);
    this.name = "RetryableProviderError";
    this.provider = provider;
    this.status = status;
    this.code = code;
  }
}

export const ok = <T>(value: T): ProviderOutcome<T> => ({ kind: "ok", value });

/** The value of an `ok` outcome, or null for any failure (for callers that only branch on success). */
export function valueOf<T>(outcome: ProviderOutcome<T>): T | null {
  return outcome.kind === "ok" ? outcome.value : null;
}

/** A response read once: status, headers, raw text and parsed JSON (null if not JSON). */
export interface WireResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/**
 * One HTTP call. Network failures (refused, DNS, reset) throw RetryableProviderError; any HTTP
 * status resolves, for the adapter to classify. Request bodies are never put in error messages
 * (a Directory insert carries the password).
 */
export async function call(
  provider: IdentityProvider,
  url: string,
  init: { method: string; headers?: Record<string, string>; body?: string; fetch?: typeof fetch },
): Promise<WireResponse> {
  const doFetch = init.fetch ?? fetch;
  let response: Response;
  try {
    response = await doFetch(url, { method: init.method, headers: init.headers, body: init.body });
  } catch (e) {
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `${(e as Error).message}: ${cause.message}` : (e as Error).message;
    throw new RetryableProviderError(provider, `${provider} could not be reached (${detail}).`);
  }
  const text = await response.text().catch(() => "");
  let json: unknown = null;
  try {
    json = text ? (JSON.parse(text) as unknown) : null;
  } catch {
    json = null;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** "HTTP 503 message", short enough for a row and an alert. */
export function describe(status: number, message: string): string {
  return `HTTP ${status}${message ? ` ${message.slice(0, 300)}` : ""}`;
}

export function trimSlash(url: string): string {
  return url.replace(/\/+$/, "");
}
