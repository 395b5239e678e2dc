// Telnyx webhook signatures and Signal's verification SMS, pure and WebCrypto-only (the Convex
// runtime has no node:crypto). The identity issue (#10) calls these from /webhooks/telnyx.

/** Telnyx's tolerance between `telnyx-timestamp` and now. */
export const TELNYX_TOLERANCE_SECONDS = 300;

export type TelnyxSignatureResult =
  | { ok: true; timestamp: number }
  | { ok: false; reason: "missing_headers" | "bad_timestamp" | "stale" | "bad_key" | "bad_signature" };

function base64ToBytes(value: string): Uint8Array<ArrayBuffer> | null {
  try {
    const binary = atob(value.trim());
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return null;
  }
}

/**
 * Verifies `telnyx-signature-ed25519` (base64) over `${telnyx-timestamp}|${raw body}` with the
 * account's base64 raw 32-byte public key (TELNYX_PUBLIC_KEY), and the timestamp within ±5
 * minutes of `nowMs`. Pass the raw body exactly as received, before any parsing.
 */
export async function verifyTelnyxSignature(input: {
  rawBody: string | Uint8Array;
  signature: string | null | undefined;
  timestamp: string | null | undefined;
  publicKey: string;
  nowMs?: number;
}): Promise<TelnyxSignatureResult> {
  if (!input.signature || !input.timestamp) return { ok: false, reason: "missing_headers" };
  if (!/^\d{1,12}$/.test(input.timestamp.trim())) return { ok: false, reason: "bad_timestamp" };
  const timestamp = Number(input.timestamp.trim());
  const now = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(now - timestamp) > TELNYX_TOLERANCE_SECONDS) return { ok: false, reason: "stale" };
  const keyBytes = base64ToBytes(input.publicKey);
  if (!keyBytes || keyBytes.length !== 32) return { ok: false, reason: "bad_key" };
  const signature = base64ToBytes(input.signature);
  if (!signature || signature.length !== 64) return { ok: false, reason: "bad_signature" };
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey("raw", keyBytes, { name: "Ed25519" }, false, ["verify"]);
  } catch {
    return { ok: false, reason: "bad_key" };
  }
  const encoder = new TextEncoder();
  const prefix = encoder.encode(`${input.timestamp.trim()}|`);
  const body = typeof input.rawBody === "string" ? encoder.encode(input.rawBody) : input.rawBody;
  const signed = new Uint8Array(prefix.length + body.length);
  signed.set(prefix, 0);
  signed.set(body, prefix.length);
  const valid = await crypto.subtle.verify({ name: "Ed25519" }, key, signature, signed);
  return valid ? { ok: true, timestamp } : { ok: false, reason: "bad_signature" };
}

/**
 * The 6-digit code in Signal's verification SMS ("Your Signal code: 123456", sometimes written
 * "123-456"), or null when the text carries none. Never log the result.
 */
export function extractSignalCode(text: string): string | null {
  const match = /(?<!\d)(\d{3})[-\s]?(\d{3})(?!\d)/.exec(text);
  return match ? `${match[1]}${match[2]}` : null;
}
