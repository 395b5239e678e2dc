// Signed unsubscribe tokens for the links and List-Unsubscribe headers of marketing mail.
// Pure (WebCrypto only: Convex's runtime has no node:crypto).
//
// token = base64url(userId + "." + purpose) + "." + base64url(HMAC-SHA256(key, userId + "." + purpose))
//
// The key is derived from ENCRYPTION_KEY for this one use (HMAC of a fixed label), so a token
// proves nothing to any other feature keyed by the same secret. Tokens do not expire: a link in
// a year-old mail must still unsubscribe, and all it can do is stop tips.
import { constantTimeEqual } from "../apiKeySecrets";
import { hmacSha256, purposeKey } from "../keyedHash";

/** What a token allows: stopping marketing mail. Another purpose would get another value. */
export const UNSUBSCRIBE_PURPOSE = "marketing";

const KEY_LABEL = "poindexter:email-unsubscribe:v1";
const encoder = new TextEncoder();

export function base64UrlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Bytes of a base64url string, or null when it is not one. */
export function base64UrlDecode(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

async function macOf(secret: string, message: string): Promise<string> {
  return base64UrlEncode(await hmacSha256(await purposeKey(secret, KEY_LABEL), encoder.encode(message)));
}

function requireSecret(secret: string): void {
  // An empty key would make every token forgeable; callers check for it and say why.
  if (secret === "") throw new Error("An unsubscribe token needs ENCRYPTION_KEY.");
}

export async function signUnsubscribeToken(secret: string, userId: string): Promise<string> {
  requireSecret(secret);
  const message = `${userId}.${UNSUBSCRIBE_PURPOSE}`;
  return `${base64UrlEncode(encoder.encode(message))}.${await macOf(secret, message)}`;
}

/** The user a token was signed for, or null for anything malformed, tampered or for another purpose. */
export async function verifyUnsubscribeToken(secret: string, token: string): Promise<{ userId: string } | null> {
  if (secret === "" || token.length > 512) return null;
  const parts = token.split(".");
  if (parts.length !== 2) return null;
  const payload = base64UrlDecode(parts[0]);
  if (payload === null) return null;
  let message: string;
  try {
    message = new TextDecoder("utf-8", { fatal: true }).decode(payload);
  } catch {
    return null;
  }
  const dot = message.lastIndexOf(".");
  if (dot <= 0 || message.slice(dot + 1) !== UNSUBSCRIBE_PURPOSE) return null;
  if (!constantTimeEqual(await macOf(secret, message), parts[1])) return null;
  return { userId: message.slice(0, dot) };
}
