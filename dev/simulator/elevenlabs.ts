/**
 * ElevenLabs text to speech: `POST /v1/text-to-speech/{voice_id}?output_format=...` with the
 * `xi-api-key` header and `{text, model_id, voice_settings?}`, answering audio bytes and the
 * characters billed in `x-character-count`. Errors are ElevenLabs' `{detail: {status, message}}`.
 */
import { errorMessage } from "./aiCommon.ts";
import { pcmSamples, silentMp3, speechSeconds, wavFile } from "./audio.ts";
import { SimHttpError, sendBytes, type ProviderFormat, type Route, type RouteContext } from "./http.ts";

/** Models and the most characters one request may carry. */
export const ELEVENLABS_MODELS: Readonly<Record<string, { maxCharacters: number }>> = {
  eleven_multilingual_v2: { maxCharacters: 10_000 },
  eleven_flash_v2_5: { maxCharacters: 40_000 },
  eleven_turbo_v2_5: { maxCharacters: 40_000 },
};

/** Premade voices the simulator knows (the ones the proxy maps OpenAI's voices to, and more). */
export const ELEVENLABS_VOICE_IDS: ReadonlySet<string> = new Set([
  "21m00Tcm4TlvDq8ikWAM", "pNInz6obpgDQGcFmaJgB", "JBFqnCBsd6RMkjVDRZzb", "XrExE9yKIg1WjnnlVkGX",
  "TxGEqnHWrfWFTfGW9XjX", "onwK4e9ZLuTAKqWW03F9", "nPczCjzI2devNBz1zQrb", "EXAVITQu4vr4xnSDxMaL",
  "Xb7hH8MSUJpSbSDYk0k2", "pFZP5JQG7iQjIQuC4Bku", "iP95p4xoKVk53GoZ742B", "cgSgspJ2msm6clMCkdW9",
]);

/** output_format values: codec, sample rate and (mp3, opus) bitrate. */
export const OUTPUT_FORMATS: readonly string[] = [
  "mp3_22050_32", "mp3_44100_32", "mp3_44100_64", "mp3_44100_96", "mp3_44100_128", "mp3_44100_192",
  "pcm_8000", "pcm_16000", "pcm_22050", "pcm_24000", "pcm_44100", "pcm_48000",
  "opus_48000_32", "opus_48000_64", "opus_48000_96", "opus_48000_128", "opus_48000_192",
];

export const elevenLabsFormat: ProviderFormat = {
  name: "elevenlabs",
  renderError(error) {
    return {
      body: { detail: { status: error.details.code ?? (error.status >= 500 ? "internal_error" : "invalid_request"), message: errorMessage(error) } },
      headers: error.details.headers,
    };
  },
};

function fail(status: number, code: string, message: string): SimHttpError {
  return new SimHttpError(status, message, { code });
}

/** The audio for `text` in `format`: mp3 frames, raw PCM at the format's rate, or opus as WAV bytes. */
export function elevenLabsAudio(text: string, format: string): { audio: Buffer; contentType: string } {
  const seconds = speechSeconds([...text].length);
  if (format.startsWith("mp3_")) return { audio: silentMp3(seconds), contentType: "audio/mpeg" };
  const rate = Number(format.split("_")[1]);
  const pcm = pcmSamples(text, seconds, rate);
  // Like the OpenAI simulator, opus is served as WAV bytes under its own type (no encoder here).
  if (format.startsWith("opus_")) return { audio: wavFile(pcm, rate), contentType: "audio/opus" };
  return { audio: pcm, contentType: "audio/pcm" };
}

async function textToSpeech(ctx: RouteContext): Promise<void> {
  const key = ctx.req.headers["xi-api-key"];
  if (typeof key !== "string" || key === "") throw fail(401, "needs_authorization", "Neither authorization header nor xi-api-key received, please provide one.");
  if (key.endsWith("-invalid")) throw fail(401, "invalid_api_key", "Invalid API key");
  const voiceId = decodeURIComponent(ctx.params[0]);
  if (!ELEVENLABS_VOICE_IDS.has(voiceId)) throw fail(404, "voice_not_found", `A voice with the voice_id ${voiceId} was not found.`);
  const format = ctx.url.searchParams.get("output_format") ?? "mp3_44100_128";
  if (!OUTPUT_FORMATS.includes(format)) throw fail(400, "invalid_output_format", `Invalid output format ${format}.`);
  const body = ctx.json();
  if (typeof body.text !== "string" || body.text.trim() === "") throw fail(400, "empty_text", "text: Field required (a non-empty string)");
  const modelId = body.model_id ?? "eleven_multilingual_v2";
  const model = typeof modelId === "string" ? ELEVENLABS_MODELS[modelId] : undefined;
  if (!model) throw fail(400, "model_not_found", `A model with model ID ${String(modelId)} does not exist.`);
  const characters = [...body.text].length;
  if (characters > model.maxCharacters) throw fail(400, "text_too_long", `Text is ${characters} characters; ${String(modelId)} takes at most ${model.maxCharacters}.`);
  const speed = (body.voice_settings as { speed?: unknown } | undefined)?.speed;
  if (speed !== undefined && (typeof speed !== "number" || speed < 0.7 || speed > 1.2)) {
    throw fail(400, "invalid_voice_settings", "voice_settings.speed must be between 0.7 and 1.2.");
  }
  const { audio, contentType } = elevenLabsAudio(body.text, format);
  sendBytes(ctx.res, 200, audio, contentType, { "x-character-count": String(characters), "request-id": ctx.requestId });
}

export const elevenLabsRoutes: Route[] = [
  { method: "POST", path: /^\/v1\/text-to-speech\/([^/]+)$/, provider: elevenLabsFormat, handle: textToSpeech },
];
