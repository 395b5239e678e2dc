// The OAuth secrets: authorization codes, access and refresh tokens, device codes and the user
// codes people type. All are random (never derived from anything a client could guess) and
// stored only as HMAC-SHA256 keyed for this feature (model/keyedHash.ts), so a copy of the
// database cannot be replayed as tokens. Pure: WebCrypto only.
import { randomBase62 } from "../apiKeySecrets";
import { keyedHex } from "../keyedHash";

export type SecretKind = "code" | "access" | "refresh" | "device";

/** A prefix per kind, so a token pasted in the wrong place is recognised (and secret scanners can match them). */
export const SECRET_PREFIX: Record<SecretKind, string> = {
  code: "pdx_ac_",
  access: "pdx_at_",
  refresh: "pdx_rt_",
  device: "pdx_dc_",
};

/** 43 base62 characters: about 256 bits. */
export const SECRET_RANDOM_CHARS = 43;

export function newSecret(kind: SecretKind): string {
  return SECRET_PREFIX[kind] + randomBase62(SECRET_RANDOM_CHARS);
}

export function kindOf(secret: string): SecretKind | null {
  for (const kind of Object.keys(SECRET_PREFIX) as SecretKind[]) {
    const prefix = SECRET_PREFIX[kind];
    if (secret.startsWith(prefix) && secret.length === prefix.length + SECRET_RANDOM_CHARS && /^[0-9A-Za-z]+$/.test(secret.slice(prefix.length))) {
      return kind;
    }
  }
  return null;
}

const LABEL = "poindexter/oauth-secret-hash/v1";

/**
 * The stored form of a code, token or user code: HMAC-SHA256 under a key derived from
 * ENCRYPTION_KEY for this purpose alone. Without ENCRYPTION_KEY (a bare test backend) the label
 * itself is the key, which is still a one-way hash of a 256-bit random value; setting the key
 * later makes earlier tokens unreadable, which only means instances connect again.
 */
export async function secretHash(secret: string, encryptionKey: string | undefined): Promise<string> {
  return await keyedHex(secret, encryptionKey, LABEL);
}

/**
 * RFC 8628 6.1: user codes from 20 consonants (no vowels, so no words; no look-alikes), 8 of
 * them (20^8 = 2.56e10 codes, with a 10-minute life and throttled polling), shown as XXXX-XXXX.
 */
export const USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ";
export const USER_CODE_LENGTH = 8;

export function newUserCode(getRandomValues: (b: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b)): string {
  // 240 = 12 * 20: bytes at or above it are dropped so each letter is equally likely.
  let out = "";
  while (out.length < USER_CODE_LENGTH) {
    for (const b of getRandomValues(new Uint8Array(16))) {
      if (b >= 240) continue;
      out += USER_CODE_ALPHABET[b % 20];
      if (out.length === USER_CODE_LENGTH) break;
    }
  }
  return `${out.slice(0, 4)}-${out.slice(4)}`;
}

/**
 * What a person typed, as the stored code: case, spaces and dashes ignored (RFC 8628 6.1), or
 * null when it cannot be a user code at all.
 */
export function normalizeUserCode(typed: string): string | null {
  const letters = typed.toUpperCase().replace(/[\s-]/g, "");
  if (letters.length !== USER_CODE_LENGTH) return null;
  for (const c of letters) if (!USER_CODE_ALPHABET.includes(c)) return null;
  return `${letters.slice(0, 4)}-${letters.slice(4)}`;
}
