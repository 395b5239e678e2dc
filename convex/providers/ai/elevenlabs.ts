// ElevenLabs text to speech. Base URL from ELEVENLABS_BASE_URL (default
// https://api.elevenlabs.io, the provider simulator in development and tests; paths are under
// its /v1), key from ELEVENLABS_API_KEY sent as `xi-api-key`. The proxy maps OpenAI's speech
// request onto `POST /v1/text-to-speech/{voice_id}?output_format=...` (model/proxy/speechVoices.ts).
import { env } from "../../_generated/server";
import { baseUrlFrom, nonNegativeInt, openAiErrorResponse, readErrorBody, sendJson } from "./common";
import type { AiProvider, ProviderUsage, UpstreamRequest } from "./types";
import { hasMasterKey, keyFor } from "./masterKeys";

const DEFAULT_BASE_URL = "https://api.elevenlabs.io";

/** The master key chosen at the request's start (several may be configured with ids: providers/ai/masterKeys.ts). */
function apiKey(request: UpstreamRequest): string {
  return keyFor("elevenlabs", request.masterKey, "ELEVENLABS_API_KEY");
}

/** ElevenLabs errors: `{detail: {status, message}}`, `{detail: "..."}` or FastAPI's `{detail: [{msg}]}`. */
export async function elevenLabsErrorResponse(res: Response): Promise<Response> {
  const { json, text } = await readErrorBody(res);
  const detail = (json as { detail?: unknown } | null)?.detail;
  let message: string | null = null;
  let code: string | null = null;
  if (typeof detail === "string") message = detail;
  else if (Array.isArray(detail)) {
    message = detail.map((d) => (typeof d?.msg === "string" ? d.msg : JSON.stringify(d))).join("; ");
  } else if (detail && typeof detail === "object") {
    const d = detail as { status?: unknown; message?: unknown };
    if (typeof d.message === "string") message = d.message;
    if (typeof d.status === "string") code = d.status;
  }
  // FastAPI's validation status; OpenAI clients expect 400 for a request they got wrong.
  const status = res.status === 422 ? 400 : res.status;
  return openAiErrorResponse(status, {
    message: message ?? (text.slice(0, 500) || `ElevenLabs answered HTTP ${res.status}.`),
    code,
  }, res);
}

export const elevenlabs: AiProvider = {
  id: "elevenlabs",
  ownedBy: "elevenlabs",
  configured: () => hasMasterKey("elevenlabs"),

  async send(request: UpstreamRequest): Promise<Response> {
    const res = await sendJson("ElevenLabs", `${baseUrlFrom(env.ELEVENLABS_BASE_URL, DEFAULT_BASE_URL)}/v1${request.path}`, {
      "xi-api-key": apiKey(request),
      accept: "audio/*",
    }, request);
    return res.ok ? res : await elevenLabsErrorResponse(res);
  },

  /**
   * ElevenLabs reports usage in a response header, not a body: pass the response's headers.
   * `x-character-count` is the characters it billed.
   */
  translateUsageMetrics(raw: unknown): ProviderUsage | null {
    if (!(raw instanceof Headers)) return null;
    const header = raw.get("x-character-count");
    if (header === null || !/^\d+$/.test(header.trim())) return null;
    return { tokensIn: 0, cachedTokensIn: 0, tokensOut: 0, characters: nonNegativeInt(Number(header)) };
  },
};
