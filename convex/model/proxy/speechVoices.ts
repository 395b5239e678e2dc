// OpenAI's /v1/audio/speech request as an ElevenLabs text-to-speech request. Pure.
//
// Voices: OpenAI's names map to ElevenLabs premade voices of a similar character (a caller
// may also name an ElevenLabs voice id directly). Formats: `response_format` maps to
// ElevenLabs' `output_format`; `wav` is ElevenLabs' 24 kHz PCM with a WAV header added here.
import { TranslationError } from "./anthropic";

export { TranslationError };

/** OpenAI voice -> ElevenLabs premade voice id (and the voice's name, for the docs). */
export const ELEVENLABS_VOICES: Readonly<Record<string, { id: string; name: string }>> = {
  alloy: { id: "21m00Tcm4TlvDq8ikWAM", name: "Rachel" },
  ash: { id: "pNInz6obpgDQGcFmaJgB", name: "Adam" },
  ballad: { id: "JBFqnCBsd6RMkjVDRZzb", name: "George" },
  coral: { id: "XrExE9yKIg1WjnnlVkGX", name: "Matilda" },
  echo: { id: "TxGEqnHWrfWFTfGW9XjX", name: "Josh" },
  fable: { id: "onwK4e9ZLuTAKqWW03F9", name: "Daniel" },
  onyx: { id: "nPczCjzI2devNBz1zQrb", name: "Brian" },
  nova: { id: "EXAVITQu4vr4xnSDxMaL", name: "Sarah" },
  sage: { id: "Xb7hH8MSUJpSbSDYk0k2", name: "Alice" },
  shimmer: { id: "pFZP5JQG7iQjIQuC4Bku", name: "Lily" },
  verse: { id: "iP95p4xoKVk53GoZ742B", name: "Chris" },
};

/** ElevenLabs voice ids are 20 base62 characters. */
const VOICE_ID = /^[A-Za-z0-9]{20}$/;

/** OpenAI response_format -> ElevenLabs output_format and the content type we answer with. */
export const OUTPUT_FORMATS: Readonly<Record<string, { outputFormat: string; contentType: string; wav?: true }>> = {
  mp3: { outputFormat: "mp3_44100_128", contentType: "audio/mpeg" },
  opus: { outputFormat: "opus_48000_128", contentType: "audio/opus" },
  pcm: { outputFormat: "pcm_24000", contentType: "audio/pcm" },
  wav: { outputFormat: "pcm_24000", contentType: "audio/wav", wav: true },
};

/** ElevenLabs' `voice_settings.speed` range (OpenAI allows 0.25..4). */
export const MIN_SPEED = 0.7;
export const MAX_SPEED = 1.2;

export interface ElevenLabsSpeech {
  voiceId: string;
  outputFormat: string;
  /** `/text-to-speech/{voice_id}?output_format=...`, under the provider's /v1. */
  path: string;
  body: { text: string; model_id: string; voice_settings?: { speed: number } };
  contentType: string;
  /** PCM to be wrapped in a WAV header before it reaches the client. */
  wrapWav: boolean;
}

export function toElevenLabsSpeech(body: Record<string, unknown>): ElevenLabsSpeech {
  const { model, input, voice } = body;
  if (typeof model !== "string" || typeof input !== "string" || typeof voice !== "string") {
    throw new TranslationError("'model', 'input' and 'voice' must be strings.");
  }
  const voiceId = ELEVENLABS_VOICES[voice]?.id ?? (VOICE_ID.test(voice) ? voice : null);
  if (voiceId === null) {
    throw new TranslationError(`Unknown voice '${voice}': use one of ${Object.keys(ELEVENLABS_VOICES).join(", ")} or an ElevenLabs voice id.`, "voice");
  }
  const formatName = body.response_format ?? "mp3";
  const format = typeof formatName === "string" ? OUTPUT_FORMATS[formatName] : undefined;
  if (!format) {
    throw new TranslationError(`'response_format' must be one of ${Object.keys(OUTPUT_FORMATS).join(", ")} for ElevenLabs models.`, "response_format");
  }
  const out: ElevenLabsSpeech["body"] = { text: input, model_id: model };
  if (body.speed !== undefined && body.speed !== null) {
    if (typeof body.speed !== "number" || body.speed < MIN_SPEED || body.speed > MAX_SPEED) {
      throw new TranslationError(`'speed' must be between ${MIN_SPEED} and ${MAX_SPEED} for ElevenLabs models.`, "speed");
    }
    out.voice_settings = { speed: body.speed };
  }
  return {
    voiceId,
    outputFormat: format.outputFormat,
    path: `/text-to-speech/${voiceId}?output_format=${format.outputFormat}`,
    body: out,
    contentType: format.contentType,
    wrapWav: format.wav === true,
  };
}

/** 16-bit mono little-endian PCM at `sampleRate` in a canonical 44-byte RIFF/WAVE header. */
export function wavFromPcm(pcm: Uint8Array, sampleRate = 24_000): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(44 + pcm.length);
  const view = new DataView(out.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) out[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + pcm.length, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true); // byte rate
  view.setUint16(32, 2, true); // block align
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, "data");
  view.setUint32(40, pcm.length, true);
  out.set(pcm, 44);
  return out;
}
