// Pieces every AI adapter shares: the fetch that turns a network failure into
// UpstreamUnavailableError, OpenAI's usage reader, and provider errors rewritten into OpenAI's
// error shape. No Convex imports beyond the adapters' own.
import type { ProviderUsage, UpstreamRequest } from "./types";
import { UpstreamUnavailableError } from "./types";

export function nonNegativeInt(x: unknown): number {
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? Math.round(x) : 0;
}

/** Base URL from env without trailing slashes, else the provider's public default. */
export function baseUrlFrom(value: string | undefined, fallback: string): string {
  return (value || fallback).replace(/\/+$/, "");
}

/** POSTs (or GETs) JSON; a network failure becomes UpstreamUnavailableError naming the provider. */
export async function sendJson(
  providerName: string,
  url: string,
  headers: Record<string, string>,
  request: UpstreamRequest,
): Promise<Response> {
  const all: Record<string, string> = { ...headers };
  if (request.body !== undefined) all["content-type"] = "application/json";
  try {
    return await fetch(url, {
      method: request.method,
      headers: all,
      body: request.body === undefined ? undefined : JSON.stringify(request.body),
      signal: request.signal,
    });
  } catch (e) {
    throw new UpstreamUnavailableError(`${providerName} could not be reached: ${(e as Error).message}`, e);
  }
}

/**
 * OpenAI's `usage` object in our terms. Chat: prompt/completion tokens with cached details;
 * embeddings: prompt tokens only. `cache_creation_input_tokens` (the field Anthropic replies
 * carry once translated to OpenAI's shape) is the part of the prompt written to the cache.
 */
export function readOpenAiUsage(raw: unknown): ProviderUsage | null {
  if (!raw || typeof raw !== "object") return null;
  const u = raw as {
    prompt_tokens?: unknown;
    completion_tokens?: unknown;
    prompt_tokens_details?: { cached_tokens?: unknown } | null;
    cache_creation_input_tokens?: unknown;
  };
  if (typeof u.prompt_tokens !== "number") return null;
  const tokensIn = nonNegativeInt(u.prompt_tokens);
  const cachedTokensIn = Math.min(tokensIn, nonNegativeInt(u.prompt_tokens_details?.cached_tokens));
  const usage: ProviderUsage = {
    tokensIn,
    cachedTokensIn,
    tokensOut: nonNegativeInt(u.completion_tokens),
    characters: 0,
  };
  const written = Math.min(tokensIn - cachedTokensIn, nonNegativeInt(u.cache_creation_input_tokens));
  if (written > 0) usage.cacheWriteTokensIn = written;
  return usage;
}

/** OpenAI's error type for a status, for providers whose own types differ. */
export function openAiErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/**
 * A provider's failed response rewritten as OpenAI's `{error: {message, type, param, code}}`
 * with `status`; headers the proxy reads (retry-after) are kept.
 */
export function openAiErrorResponse(
  status: number,
  error: { message: string; type?: string; param?: string | null; code?: string | null },
  from?: Response,
): Response {
  const headers: Record<string, string> = { "content-type": "application/json" };
  const retryAfter = from?.headers.get("retry-after");
  if (retryAfter) headers["retry-after"] = retryAfter;
  return new Response(
    JSON.stringify({
      error: {
        message: error.message,
        type: error.type ?? openAiErrorType(status),
        param: error.param ?? null,
        code: error.code ?? null,
      },
    }),
    { status, headers },
  );
}

/** The body of a failed response as JSON (null when it is not JSON), and its text. */
export async function readErrorBody(res: Response): Promise<{ json: unknown; text: string }> {
  const text = await res.text().catch(() => "");
  try {
    return { json: JSON.parse(text), text };
  } catch {
    return { json: null, text };
  }
}
