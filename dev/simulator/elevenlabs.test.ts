// ElevenLabs text to speech on the wire.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { MP3_FRAME_HEADER } from "./audio.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";

let sim: RunningSimulator;
beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const VOICE = "21m00Tcm4TlvDq8ikWAM";

async function tts(body: unknown, opts: { voice?: string; format?: string; key?: string } = {}) {
  const query = opts.format ? `?output_format=${opts.format}` : "";
  return await fetch(`${sim.url}/v1/text-to-speech/${opts.voice ?? VOICE}${query}`, {
    method: "POST",
    headers: { "xi-api-key": opts.key ?? "xi-sim-test", "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

describe("POST /v1/text-to-speech/{voice_id}", () => {
  it("answers mp3 by default with the characters billed", async () => {
    const text = "Héllo from the simulator";
    const res = await tts({ text, model_id: "eleven_flash_v2_5" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("audio/mpeg");
    expect(res.headers.get("x-character-count")).toBe(String([...text].length));
    const audio = new Uint8Array(await res.arrayBuffer());
    expect([...audio.slice(0, 4)]).toEqual([...MP3_FRAME_HEADER]);
    // The key never reaches the request log.
    expect(sim.requests({ pathPrefix: "/v1/text-to-speech" })[0].headers).not.toHaveProperty("xi-api-key");
  });

  it("answers raw PCM at the requested rate", async () => {
    const res = await tts({ text: "abc", model_id: "eleven_multilingual_v2" }, { format: "pcm_24000" });
    expect(res.headers.get("content-type")).toBe("audio/pcm");
    // 0.25 s minimum at 24 kHz, 16-bit mono.
    expect((await res.arrayBuffer()).byteLength).toBe(0.25 * 24_000 * 2);
  });

  it.each([
    ["no key", {}, { key: "" }, 401, "needs_authorization"],
    ["a bad key", {}, { key: "xi-invalid" }, 401, "invalid_api_key"],
    ["an unknown voice", {}, { voice: "nobody" }, 404, "voice_not_found"],
    ["an unknown format", {}, { format: "flac_44100" }, 400, "invalid_output_format"],
    ["an unknown model", { model_id: "eleven_v9" }, {}, 400, "model_not_found"],
    ["empty text", { text: "" }, {}, 400, "empty_text"],
    ["too long a text", { text: "x".repeat(10_001), model_id: "eleven_multilingual_v2" }, {}, 400, "text_too_long"],
  ])("answers %s with ElevenLabs' error JSON", async (_name, over, opts, status, code) => {
    const res = await tts({ text: "hello", ...over }, opts);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ detail: { status: code, message: expect.any(String) } });
  });

  it("honours the failure knob", async () => {
    sim.configure({ fail: { status: 500, count: 1, pathPrefix: "/v1/text-to-speech" } });
    const res = await tts({ text: "hello" });
    expect(res.status).toBe(500);
    expect((await res.json()).detail.status).toBe("internal_error");
  });
});
