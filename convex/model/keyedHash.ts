// Hashes keyed by the deployment's ENCRYPTION_KEY, for every feature that needs one (client IPs
// of signups, unsubscribe tokens). Each feature derives its own key from the secret with a fixed
// label, so a value made for one proves nothing to another. Pure (WebCrypto only: Convex's
// runtime has no node:crypto).

const encoder = new TextEncoder();

/** Each byte's two lowercase hex digits: every proxied request hexes its key's digest. */
const HEX_PAIRS = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, "0"));

/** Lowercase hex of bytes (what SHA-256 digests are stored as). */
export function hex(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += HEX_PAIRS[bytes[i]];
  return out;
}

export async function hmacSha256(key: Uint8Array<ArrayBuffer>, message: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, message));
}

/** The key one feature (`label`) uses, derived from the deployment's secret. */
export async function purposeKey(secret: string, label: string): Promise<Uint8Array<ArrayBuffer>> {
  return await hmacSha256(encoder.encode(secret), encoder.encode(label));
}

/**
 * HMAC-SHA256 of `value`, hex, under the key `label` derives from `secret`. Without a secret
 * (tests, a fresh deployment) the label itself is the key: the hash is then pseudonymous only,
 * which is why production sets ENCRYPTION_KEY. Client IPs and presented secrets are stored this way.
 */
export async function keyedHex(value: string, secret: string | undefined, label: string): Promise<string> {
  const key = secret ? await purposeKey(secret, label) : encoder.encode(label);
  return hex(await hmacSha256(key, encoder.encode(value)));
}
