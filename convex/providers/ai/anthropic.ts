// Anthropic adapter (Messages API). Base URL from ANTHROPIC_BASE_URL (default
// https://api.anthropic.com, the provider simulator in development and tests; paths are under
// its /v1), key from ANTHROPIC_API_KEY. The proxy translates OpenAI chat requests into Messages
// requests and the replies back (model/proxy/anthropic.ts); this adapter only carries them and
// rewrites Anthropic's errors into OpenAI's shape.
import { env } from "../../_generated/server";
import { baseUrlFrom, openAiErrorResponse, readErrorBody, readOpenAiUsage, sendJson } from "./common";
import type { AiProvider, UpstreamRequest } from "./types";
import { hasMasterKey, keyFor } from "./masterKeys";

const DEFAULT_BASE_URL = "https://api.anthropic.com";
/** The Messages API version this translation is written against. */
export const ANTHROPIC_VERSION = "2023-06-01";

/** The master key chosen at the request's start (several may be configured with ids: providers/ai/masterKeys.ts). */
function apiKey(request: UpstreamRequest): string {
  return keyFor("anthropic", request.masterKey, "ANTHROPIC_API_KEY");
}

/** Anthropic's error types with their OpenAI counterparts (`{type: "error", error: {type, message}}`). */
const ERROR_TYPES: Record<string, string> = {
  invalid_request_error: "invalid_request_error",
  authentication_error: "authentication_error",
  permission_error: "permission_error",
  not_found_error: "not_found_error",
  request_too_large: "invalid_request_error",
  rate_limit_error: "rate_limit_error",
  api_error: "server_error",
  overloaded_error: "server_error",
};

export async function anthropicErrorResponse(res: Response): Promise<Response> {
  const { json, text } = await readErrorBody(res);
  const err = (json as { error?: { type?: unknown; message?: unknown } } | null)?.error;
  const type = typeof err?.type === "string" ? err.type : null;
  // 529 overloaded_error is Anthropic's own status; OpenAI clients know it as 503.
  const status = res.status === 529 ? 503 : res.status;
  return openAiErrorResponse(status, {
    message: typeof err?.message === "string" ? err.message : text.slice(0, 500) || `Anthropic answered HTTP ${res.status}.`,
    type: type ? (ERROR_TYPES[type] ?? "invalid_request_error") : undefined,
    code: type,
  }, res);
}

export const anthropic: AiProvider = {
  id: "anthropic",
  ownedBy: "anthropic",
  configured: () => hasMasterKey("anthropic"),

  async send(request: UpstreamRequest): Promise<Response> {
    const res = await sendJson("Anthropic", `${baseUrlFrom(env.ANTHROPIC_BASE_URL, DEFAULT_BASE_URL)}/v1${request.path}`, {
      "x-api-key": apiKey(request),
      "anthropic-version": ANTHROPIC_VERSION,
    }, request);
    return res.ok ? res : await anthropicErrorResponse(res);
  },

  /** Replies reach the client translated to OpenAI's shape, cache reads and writes included. */
  translateUsageMetrics: readOpenAiUsage,
};
