// OpenAI adapter. Base URL from OPENAI_BASE_URL (default https://api.openai.com/v1, the
// provider simulator in development and tests), key from OPENAI_API_KEY.
import { env } from "../../_generated/server";
import { baseUrlFrom, readOpenAiUsage, sendJson } from "./common";
import type { AiProvider, UpstreamRequest } from "./types";
import { UpstreamUnavailableError } from "./types";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

function apiKey(): string {
  const key = env.OPENAI_API_KEY;
  if (!key) throw new UpstreamUnavailableError("OPENAI_API_KEY is not set on this deployment.");
  return key;
}

export const openai: AiProvider = {
  id: "openai",
  ownedBy: "openai",
  configured: () => Boolean(env.OPENAI_API_KEY),

  async send(request: UpstreamRequest): Promise<Response> {
    // OpenAI's errors are already in the shape the proxy passes on.
    return await sendJson("OpenAI", `${baseUrlFrom(env.OPENAI_BASE_URL, DEFAULT_BASE_URL)}${request.path}`, {
      authorization: `Bearer ${apiKey()}`,
    }, request);
  },

  translateUsageMetrics: readOpenAiUsage,
};
