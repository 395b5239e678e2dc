// API key secrets: generation, hashing, display prefix, comparison and the Bearer header.
// Pure, no Convex imports. (Key lifecycle is in apiKeyStatus.ts.)
// A secret is `pk_live_` or `pk_test_` followed by 43 base62 characters (43 * log2(62) ~ 256 bits,
// i.e. at least 32 random bytes of entropy). Only its SHA-256 hex is stored.
import { hex } from "./keyedHash";

export type KeyEnvironment = "live" | "test";

export const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
/** Characters of randomness after the environment prefix. */
export const SECRET_RANDOM_CHARS = 43;
/** Characters of the secret shown in lists ("pk_live_AbCd1234"): enough to tell keys apart. */
export const DISPLAY_PREFIX_LENGTH = 16;

const KEY_PATTERN = /^pk_(live|test)_[0-9A-Za-z]{43}$/;

export function secretPrefixFor(environment: KeyEnvironment): string {
  return environment === "live" ? "pk_live_" : "pk_test_";
}

/**
 * `count` uniformly random base62 characters. Bytes >= 248 (= 4 * 62) are rejected so every
 * character has probability exactly 1/62: `byte % 62` over all 256 values would favour 0-7.
 */
export function randomBase62(
  count: number,
  getRandomValues: (bytes: Uint8Array) => Uint8Array = (b) => crypto.getRandomValues(b),
): string {
  const limit = 248;
  let out = "";
  while (out.length < count) {
    const bytes = getRandomValues(new Uint8Array(Math.max(16, (count - out.length) * 2)));
    for (const b of bytes) {
      if (b >= limit) continue;
      out += BASE62[b % 62];
      if (out.length === count) break;
    }
  }
  return out;
}

export function generateSecret(environment: KeyEnvironment): string {
  return secretPrefixFor(environment) + randomBase62(SECRET_RANDOM_CHARS);
}

export function isWellFormedSecret(secret: string): boolean {
  return KEY_PATTERN.test(secret);
}

export function environmentOf(secret: string): KeyEnvironment | null {
  const m = KEY_PATTERN.exec(secret);
  return m ? (m[1] as KeyEnvironment) : null;
}

export function displayPrefix(secret: string): string {
  return secret.slice(0, DISPLAY_PREFIX_LENGTH);
}

const encoder = new TextEncoder();

/** SHA-256 of the secret as lowercase hex (what apiKeys.hash stores). */
export async function hashSecret(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(secret));
  return hex(new Uint8Array(digest));
}

/**
 * Compares two strings without an early exit on the first difference, so the time taken
 * does not reveal how long a matching prefix was. Length is not secret (hashes are fixed).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const len = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < len; i++) {
    diff |= (a.charCodeAt(i) || 0) ^ (b.charCodeAt(i) || 0);
  }
  return diff === 0;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | null): string | null {
  if (!header) return null;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1] : null;
}
