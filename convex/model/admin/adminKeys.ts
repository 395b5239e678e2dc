// Admin API key secrets: `pdx_admin_` + 43 base62 characters (~256 bits), stored as SHA-256 hex
// only, like customer keys (model/apiKeySecrets.ts). Pure.
import { randomBase62, SECRET_RANDOM_CHARS } from "../apiKeySecrets";

export const ADMIN_KEY_PREFIX = "pdx_admin_";
const ADMIN_KEY_PATTERN = /^pdx_admin_[0-9A-Za-z]{43}$/;
const CUSTOMER_KEY_PATTERN = /^pk_(live|test)_/;
/** Characters shown in the list ("pdx_admin_AbCd12"): enough to tell keys apart, useless to an attacker. */
export const ADMIN_DISPLAY_PREFIX_LENGTH = 16;

export function generateAdminSecret(getRandomValues?: (bytes: Uint8Array) => Uint8Array): string {
  return ADMIN_KEY_PREFIX + randomBase62(SECRET_RANDOM_CHARS, getRandomValues);
}

export function adminDisplayPrefix(secret: string): string {
  return secret.slice(0, ADMIN_DISPLAY_PREFIX_LENGTH);
}

/** What an Authorization header carries, before any lookup. */
export type PresentedCredential =
  | { kind: "missing" }
  | { kind: "admin"; secret: string }
  | { kind: "customer_key" }
  | { kind: "malformed" };

export function classifyAuthorization(header: string | null): PresentedCredential {
  if (header === null || header.trim() === "") return { kind: "missing" };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  if (!m) return { kind: "malformed" };
  const token = m[1];
  if (ADMIN_KEY_PATTERN.test(token)) return { kind: "admin", secret: token };
  // Customer API keys and OAuth tokens are real credentials, just not for this API.
  if (CUSTOMER_KEY_PATTERN.test(token)) return { kind: "customer_key" };
  return { kind: "malformed" };
}

export function cleanKeyName(name: string): string | null {
  const trimmed = name.trim();
  return trimmed.length >= 1 && trimmed.length <= 64 ? trimmed : null;
}
