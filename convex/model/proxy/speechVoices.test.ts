import { describe, expect, it } from "vitest";
import { ELEVENLABS_VOICES, OUTPUT_FORMATS, toElevenLabsSpeech, TranslationError, wavFromPcm } from "./speechVoices";

const base = { model: "eleven_flash_v2_5", input: "Hello there", voice: "alloy" };

describe("OpenAI speech -> ElevenLabs", () => {
  it("maps every OpenAI voice to a distinct ElevenLabs voice id", () => {
    const ids = Object.values(ELEVENLABS_VOICES).map((v) => v.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(Object.keys(ELEVENLABS_VOICES).sort()).toEqual(["alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer", "verse"]);
  });

  it("builds the path, output_format and body; mp3 by default", () => {
    expect(toElevenLabsSpeech(base)).toEqual({
      voiceId: "21m00Tcm4TlvDq8ikWAM",
      outputFormat: "mp3_44100_128",
      path: "/text-to-speech/21m00Tcm4TlvDq8ikWAM?output_format=mp3_44100_128",
      body: { text: "Hello there", model_id: "eleven_flash_v2_5" },
      contentType: "audio/mpeg",
      wrapWav: false,
    });
  });

  it.each([
    ["mp3", "mp3_44100_128", "audio/mpeg", false],
    ["opus", "opus_48000_128", "audio/opus", false],
    ["pcm", "pcm_24000", "audio/pcm", false],
    ["wav", "pcm_24000", "audio/wav", true],
  ])("response_format %s -> output_format %s", (format, outputFormat, contentType, wrapWav) => {
    expect(toElevenLabsSpeech({ ...base, response_format: format })).toMatchObject({ outputFormat, contentType, wrapWav });
    expect(OUTPUT_FORMATS[format].outputFormat).toBe(outputFormat);
  });

  it("passes an ElevenLabs voice id through and speed within ElevenLabs' range", () => {
    const out = toElevenLabsSpeech({ ...base, voice: "JBFqnCBsd6RMkjVDRZzb", speed: 1.1 });
    expect(out.voiceId).toBe("JBFqnCBsd6RMkjVDRZzb");
    expect(out.body.voice_settings).toEqual({ speed: 1.1 });
  });

  it.each([
    [{ voice: "robot" }, "voice"],
    [{ response_format: "flac" }, "response_format"],
    [{ response_format: "aac" }, "response_format"],
    [{ speed: 2 }, "speed"],
    [{ speed: 0.5 }, "speed"],
  ])("refuses %j", (over, param) => {
    let error: unknown;
    try {
      toElevenLabsSpeech({ ...base, ...over });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TranslationError);
    expect((error as TranslationError).param).toBe(param);
  });

  it("wraps 24 kHz PCM in a 44-byte WAV header", () => {
    const pcm = new Uint8Array([1, 2, 3, 4]);
    const wav = wavFromPcm(pcm);
    const view = new DataView(wav.buffer);
    expect(new TextDecoder().decode(wav.slice(0, 4))).toBe("RIFF");
    expect(new TextDecoder().decode(wav.slice(8, 12))).toBe("WAVE");
    expect(view.getUint32(4, true)).toBe(36 + 4);
    expect(view.getUint32(24, true)).toBe(24_000);
    expect(view.getUint32(40, true)).toBe(4);
    expect([...wav.slice(44)]).toEqual([1, 2, 3, 4]);
  });
});
