/**
 * Small but valid audio files for the simulated text-to-speech endpoint.
 *
 * Duration grows with the input so byte counts behave like the real service (clients that stream
 * or store the audio see realistic sizes). No Node imports beyond Buffer.
 */

/** OpenAI's `pcm` format: 24 kHz, 16-bit signed little-endian, mono, no header. */
export const PCM_SAMPLE_RATE = 24_000;
/** Spoken speed the simulator assumes: about 16 characters per second at speed 1.0. */
export const SECONDS_PER_CHARACTER = 0.06;
export const MIN_SECONDS = 0.25;

/** Seconds of audio for `characters` of input at `speed` (0.25..4). */
export function speechSeconds(characters: number, speed = 1): number {
  return Math.max(MIN_SECONDS, characters * SECONDS_PER_CHARACTER) / speed;
}

/**
 * Raw PCM samples: one quiet tone per character (frequency from the character code) so different
 * inputs give different audio, with a short fade at each boundary to avoid clicks.
 */
export function pcmSamples(text: string, seconds: number, sampleRate = PCM_SAMPLE_RATE): Buffer {
  const count = Math.max(1, Math.round(seconds * sampleRate));
  const out = Buffer.alloc(count * 2);
  const chars = [...text];
  const segment = Math.max(1, Math.floor(count / Math.max(1, chars.length)));
  let phase = 0;
  for (let i = 0; i < count; i++) {
    const ch = chars.length ? chars[Math.min(chars.length - 1, Math.floor(i / segment))] : " ";
    const code = ch.codePointAt(0) ?? 32;
    const frequency = ch.trim() === "" ? 0 : 180 + (code % 64) * 6;
    phase += (2 * Math.PI * frequency) / sampleRate;
    const posInSegment = i % segment;
    const fade = Math.min(1, posInSegment / 120, (segment - posInSegment) / 120);
    const value = Math.round(Math.sin(phase) * 6000 * fade);
    out.writeInt16LE(value, i * 2);
  }
  return out;
}

/** A canonical 44-byte-header RIFF/WAVE file around 16-bit mono PCM. */
export function wavFile(pcm: Buffer, sampleRate = PCM_SAMPLE_RATE): Buffer {
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + pcm.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16); // fmt chunk size
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28); // byte rate
  header.writeUInt16LE(2, 32); // block align
  header.writeUInt16LE(16, 34); // bits per sample
  header.write("data", 36, "ascii");
  header.writeUInt32LE(pcm.length, 40);
  return Buffer.concat([header, pcm]);
}

/**
 * MPEG-1 Layer III, 48 kHz, 32 kbit/s, mono, no CRC: each frame is 144 * 32000 / 48000 = 96 bytes
 * and lasts 1152 samples (24 ms). All-zero side information means part2_3_length = 0 in every
 * granule, which decoders play as silence: a real, decodable MP3 without an encoder.
 */
export const MP3_FRAME_HEADER = Buffer.from([0xff, 0xfb, 0x14, 0xc0]);
export const MP3_FRAME_BYTES = 96;
export const MP3_FRAME_SECONDS = 1152 / 48_000;

export function silentMp3(seconds: number): Buffer {
  const frames = Math.max(1, Math.ceil(seconds / MP3_FRAME_SECONDS));
  const out = Buffer.alloc(frames * MP3_FRAME_BYTES);
  for (let f = 0; f < frames; f++) MP3_FRAME_HEADER.copy(out, f * MP3_FRAME_BYTES);
  return out;
}

export type SpeechFormat = "mp3" | "opus" | "aac" | "flac" | "wav" | "pcm";
export const SPEECH_FORMATS: readonly SpeechFormat[] = ["mp3", "opus", "aac", "flac", "wav", "pcm"];

export const SPEECH_CONTENT_TYPES: Record<SpeechFormat, string> = {
  mp3: "audio/mpeg",
  opus: "audio/opus",
  aac: "audio/aac",
  flac: "audio/flac",
  wav: "audio/wav",
  pcm: "audio/pcm",
};

/**
 * The audio bytes for a speech request. mp3, wav and pcm are genuine encodings; opus, aac and flac
 * are served as WAV bytes under their own content type (a documented simplification: encoders for
 * those formats are out of scope, and no caller here decodes them).
 */
export function speechAudio(text: string, format: SpeechFormat, speed = 1): Buffer {
  const seconds = speechSeconds([...text].length, speed);
  if (format === "mp3") return silentMp3(seconds);
  const pcm = pcmSamples(text, seconds);
  return format === "pcm" ? pcm : wavFile(pcm);
}
