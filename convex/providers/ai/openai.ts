// OpenAI adapter. Base URL from OPENAI_BASE_URL (default https://api.openai.com/v1, the
// provider simulator in development and tests), key from OPENAI_API_KEY.
import { env } from "../../_generated/server";
import type { AiProvider, NormalizedUsage, UpstreamRequest } from "./types";
import { UpstreamUnavailableError } from "./types";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

function baseUrl(): string {
  return (env.OPENAI_BASE_URL || DEFAULT_BASE_URL).replace(/\/+$/, "");
}

function apiKey(): string {
  const key = env.OPENAI_API_KEY;
  if (!key) throw new UpstreamUnavailableError("OPENAI_API_KEY is not set on this deployment.");
  return key;
}

function nonNegativeInt(x: unknown): number {
  return typeof x === "number" && Number.isFinite(x) && x > 0 ? Math.round(x) : 0;
}

export const openai: AiProvider = {
  id: "openai",

  async send(request: UpstreamRequest): Promise<Response> {
    const headers: Record<string, string> = { authorization: `Bearer ${apiKey()}` };
    if (request.body !== undefined) headers["content-type"] = "application/json";
    try {
      return await fetch(`${baseUrl()}${request.path}`, {
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: request.signal,
      });
    } catch (e) {
      throw new UpstreamUnavailableError(`OpenAI could not be reached: ${(e as Error).message}`, e);
    }
  },

  /** Chat: prompt/completion tokens with cached details; embeddings: prompt tokens only. */
  translateUsageMetrics(raw: unknown): NormalizedUsage | null {
    if (!raw || typeof raw !== "object") return null;
    const u = raw as {
      prompt_tokens?: unknown;
      completion_tokens?: unknown;
      prompt_tokens_details?: { cached_tokens?: unknown } | null;
    };
    if (typeof u.prompt_tokens !== "number") return null;
    const tokensIn = nonNegativeInt(u.prompt_tokens);
    return {
      tokensIn,
      cachedTokensIn: Math.min(tokensIn, nonNegativeInt(u.prompt_tokens_details?.cached_tokens)),
      tokensOut: nonNegativeInt(u.completion_tokens),
      characters: 0,
    };
  },
};
