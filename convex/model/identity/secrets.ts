// The identity's secrets: the Workspace password, Signal's captcha token and SMS code. Pure
// (WebCrypto only). None of them is ever logged or stored in plain text: a value that must be
// kept (the password, a code waiting for its verification) or passed through the workpool (whose
// arguments are stored) is sealed with AES-256-GCM under a key derived from ENCRYPTION_KEY for
// this purpose alone (model/keyedHash.ts `purposeKey`).
import { purposeKey } from "../keyedHash";

const LABEL = "poindexter:identity-secrets:v1";
const VERSION = "v1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function toBase64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(value: string): Uint8Array<ArrayBuffer> {
  const binary = atob(value.replace(/-/g, "+").replace(/_/g, "/"));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function aesKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", await purposeKey(secret, LABEL), { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

export class SealedSecretError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SealedSecretError";
  }
}

/** `v1.<iv>.<ciphertext+tag>` (base64url), a fresh 96-bit IV each time. */
export async function seal(secret: string, plaintext: string): Promise<string> {
  if (!secret) throw new SealedSecretError("ENCRYPTION_KEY is not set on this deployment.");
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const sealed = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await aesKey(secret), encoder.encode(plaintext)));
  return `${VERSION}.${toBase64Url(iv)}.${toBase64Url(sealed)}`;
}

/** The plaintext, or SealedSecretError when the value was not sealed under this key (or was altered). */
export async function unseal(secret: string, value: string): Promise<string> {
  if (!secret) throw new SealedSecretError("ENCRYPTION_KEY is not set on this deployment.");
  const [version, iv, body] = value.split(".");
  if (version !== VERSION || !iv || !body) throw new SealedSecretError("Not a sealed identity secret.");
  try {
    const plain = await crypto.subtle.decrypt({ name: "AES-GCM", iv: fromBase64Url(iv) }, await aesKey(secret), fromBase64Url(body));
    return decoder.decode(plain);
  } catch {
    throw new SealedSecretError("The sealed secret does not open with this ENCRYPTION_KEY (rotated key or altered value).");
  }
}

const ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789";

/** A short id for a Workspace address: 8 characters of a 32-letter alphabet (40 bits), no look-alikes. */
export function shortId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  return Array.from(bytes, (b) => ALPHABET[b % ALPHABET.length]).join("");
}

/** `dex-<short id>@<domain>`, lowercased (Google compares primaryEmail case-insensitively). */
export function workspaceAddress(id: string, domain: string): string {
  return `dex-${id}@${domain.trim().toLowerCase().replace(/^@/, "")}`;
}

const PASSWORD_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789!#%+-=?@^_";

/**
 * A Workspace password: 24 printable ASCII characters (Google accepts 8-100), at least one of each
 * class. Nobody signs in with it (Dex reaches the mailbox through delegation); it only has to be
 * strong and never leave the action except sealed.
 */
export function generatePassword(length = 24): string {
  for (;;) {
    const bytes = crypto.getRandomValues(new Uint8Array(length));
    const pw = Array.from(bytes, (b) => PASSWORD_CHARS[b % PASSWORD_CHARS.length]).join("");
    if (/[A-Z]/.test(pw) && /[a-z]/.test(pw) && /\d/.test(pw) && /[^A-Za-z0-9]/.test(pw)) return pw;
  }
}

/** Signal's captcha answer as the person pastes it: `signalcaptcha://...`, bounded. */
export const CAPTCHA_PREFIX = "signalcaptcha://";
export const CAPTCHA_MAX_LENGTH = 4096;

export function captchaTokenProblem(token: string): string | null {
  const t = token.trim();
  if (!t.startsWith(CAPTCHA_PREFIX)) return `The captcha answer must start with ${CAPTCHA_PREFIX} (copy the link Signal's captcha page opens).`;
  if (t.length <= CAPTCHA_PREFIX.length + 10) return "The captcha answer is too short: copy the whole signalcaptcha:// link.";
  if (t.length > CAPTCHA_MAX_LENGTH) return `The captcha answer is longer than ${CAPTCHA_MAX_LENGTH} characters: copy only the signalcaptcha:// link.`;
  if (/\s/.test(t)) return "The captcha answer contains spaces or line breaks: copy only the signalcaptcha:// link.";
  return null;
}
