// Google Gemini through its OpenAI-compatible endpoint. Base URL from GEMINI_BASE_URL (default
// https://generativelanguage.googleapis.com/v1beta/openai, the provider simulator in development
// and tests), Bearer key from GEMINI_API_KEY. Requests and replies are OpenAI's; errors are
// rewritten into OpenAI's exact shape (Google wraps them in an array, with its own status names).
import { env } from "../../_generated/server";
import { baseUrlFrom, nonNegativeInt, openAiErrorResponse, readErrorBody, readOpenAiUsage, sendJson } from "./common";
import type { AiProvider, ProviderUsage, UpstreamRequest } from "./types";
import { hasMasterKey, keyFor } from "./masterKeys";

const DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta/openai";

/** The master key chosen at the request's start (several may be configured with ids: providers/ai/masterKeys.ts). */
function apiKey(request: UpstreamRequest): string {
  return keyFor("gemini", request.masterKey, "GEMINI_API_KEY");
}

export async function geminiErrorResponse(res: Response): Promise<Response> {
  const { json, text } = await readErrorBody(res);
  const body = Array.isArray(json) ? json[0] : json;
  const err = (body as { error?: { message?: unknown; status?: unknown; code?: unknown } } | null)?.error;
  const status = typeof err?.status === "string" ? err.status : null;
  return openAiErrorResponse(res.status, {
    message: typeof err?.message === "string" ? err.message : text.slice(0, 500) || `Gemini answered HTTP ${res.status}.`,
    code: status ? status.toLowerCase() : null,
  }, res);
}

/**
 * Gemini's usage: completion_tokens may leave out the thinking tokens that total_tokens (and
 * the bill) include, so output is whichever of the two is larger.
 */
export function geminiUsage(raw: unknown): ProviderUsage | null {
  const usage = readOpenAiUsage(raw);
  if (usage === null) return null;
  const total = nonNegativeInt((raw as { total_tokens?: unknown }).total_tokens);
  return { ...usage, tokensOut: Math.max(usage.tokensOut, total - usage.tokensIn) };
}

export const gemini: AiProvider = {
  id: "gemini",
  ownedBy: "google",
  configured: () => hasMasterKey("gemini"),

  async send(request: UpstreamRequest): Promise<Response> {
    const res = await sendJson("Gemini", `${baseUrlFrom(env.GEMINI_BASE_URL, DEFAULT_BASE_URL)}${request.path}`, {
      authorization: `Bearer ${apiKey(request)}`,
    }, request);
    return res.ok ? res : await geminiErrorResponse(res);
  },

  translateUsageMetrics: geminiUsage,
};
