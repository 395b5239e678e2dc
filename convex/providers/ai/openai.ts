// OpenAI adapter. Base URL from OPENAI_BASE_URL (default https://api.openai.com/v1, the
// provider simulator in development and tests), key from OPENAI_API_KEY.
import { env } from "../../_generated/server";
import { baseUrlFrom, readOpenAiUsage, sendJson } from "./common";
import type { AiProvider, UpstreamRequest } from "./types";
import { hasMasterKey, keyFor } from "./masterKeys";

const DEFAULT_BASE_URL = "https://api.openai.com/v1";

/** The master key chosen at the request's start (several may be configured with ids: providers/ai/masterKeys.ts). */
function apiKey(request: UpstreamRequest): string {
  return keyFor("openai", request.masterKey, "OPENAI_API_KEY");
}

export const openai: AiProvider = {
  id: "openai",
  ownedBy: "openai",
  configured: () => hasMasterKey("openai"),

  async send(request: UpstreamRequest): Promise<Response> {
    // OpenAI's errors are already in the shape the proxy passes on.
    return await sendJson("OpenAI", `${baseUrlFrom(env.OPENAI_BASE_URL, DEFAULT_BASE_URL)}${request.path}`, {
      authorization: `Bearer ${apiKey(request)}`,
    }, request);
  },

  translateUsageMetrics: readOpenAiUsage,
};
