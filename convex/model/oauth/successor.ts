// Refresh races: two processes of one instance refresh with the same token at once. The first
// rotates; the second must get the SAME new pair, or the instance ends up holding a pair the
// server already replaced and is logged out. The server never keeps a token in plain text, so
// the new pair is sealed (AES-256-GCM) under a key derived from the refresh token it replaces.
// Only a holder of that old token can open it, the seal is kept only for the grace window, and a
// database copy alone opens nothing. Pure: WebCrypto only.
import { purposeKey } from "../keyedHash";
import { base64UrlDecode, base64UrlEncode } from "./pkce";

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

const LABEL = "poindexter/oauth-refresh-successor/v1";
const encoder = new TextEncoder();

async function keyFrom(oldRefreshToken: string): Promise<CryptoKey> {
  const raw = await purposeKey(oldRefreshToken, LABEL);
  return await crypto.subtle.importKey("raw", raw, { name: "AES-GCM" }, false, ["encrypt", "decrypt"]);
}

/** `iv.ciphertext` in base64url; the old token's hash is bound as associated data. */
export async function sealSuccessor(oldRefreshToken: string, oldRefreshHash: string, pair: TokenPair): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plain = encoder.encode(JSON.stringify([pair.accessToken, pair.refreshToken]));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(oldRefreshHash) },
    await keyFrom(oldRefreshToken),
    plain,
  );
  return `${base64UrlEncode(iv)}.${base64UrlEncode(new Uint8Array(sealed))}`;
}

/** The pair sealed for this old token, or null when it does not open (another token, altered data). */
export async function openSuccessor(oldRefreshToken: string, oldRefreshHash: string, sealed: string): Promise<TokenPair | null> {
  const [ivText, dataText] = sealed.split(".");
  if (!ivText || !dataText) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: base64UrlDecode(ivText), additionalData: encoder.encode(oldRefreshHash) },
      await keyFrom(oldRefreshToken),
      base64UrlDecode(dataText),
    );
    const parsed: unknown = JSON.parse(new TextDecoder().decode(plain));
    if (!Array.isArray(parsed) || parsed.length !== 2 || typeof parsed[0] !== "string" || typeof parsed[1] !== "string") return null;
    return { accessToken: parsed[0], refreshToken: parsed[1] };
  } catch {
    return null;
  }
}
