// The two short-lived bearer secrets of the credentials domain: provider credentials
// (`pdx_pc_`, per account and provider, rotated) and browser session tokens (`pdx_st_`,
// 15 minutes). Both are `<prefix><lookup id><secret>`: the lookup id (16 base62, not secret)
// finds the row through an index, the secret (43 base62, ~256 bits) is what proves possession.
//
// Stored form: SHA-256(salt ":" HMAC-SHA256(K, secret)) where K is derived from the
// deployment's ENCRYPTION_KEY for this purpose (model/keyedHash.ts) and the salt is random per
// row. The HMAC ("presented hash") is computed where the secret arrives (the httpAction), so the
// plain secret never reaches a mutation's arguments; the mutation salts it with the row's salt
// and compares. A database copy without ENCRYPTION_KEY cannot be turned into usable tokens, and
// equal secrets (impossible in practice) would still not share a stored hash. Pure: WebCrypto.
import { randomBase62 } from "../apiKeySecrets";
import { constantTimeEqual } from "../apiKeySecrets";
import { hex, keyedHex } from "../keyedHash";

export type TokenKind = "provider_credential" | "session_token";

export const TOKEN_PREFIX: Record<TokenKind, string> = {
  provider_credential: "pdx_pc_",
  session_token: "pdx_st_",
};

export const LOOKUP_ID_CHARS = 16;
export const SECRET_CHARS = 43;
const SALT_CHARS = 22;

export interface ParsedToken {
  kind: TokenKind;
  lookupId: string;
  secret: string;
}

export interface MintedToken extends ParsedToken {
  /** The whole bearer string: shown once, never stored. */
  token: string;
}

export function mintToken(kind: TokenKind): MintedToken {
  const lookupId = randomBase62(LOOKUP_ID_CHARS);
  const secret = randomBase62(SECRET_CHARS);
  return { kind, lookupId, secret, token: `${TOKEN_PREFIX[kind]}${lookupId}${secret}` };
}

const BODY = new RegExp(`^[0-9A-Za-z]{${LOOKUP_ID_CHARS + SECRET_CHARS}}$`);

/** The kind, lookup id and secret of a bearer string, or null when it is not one of these tokens. */
export function parseToken(bearer: string): ParsedToken | null {
  for (const kind of Object.keys(TOKEN_PREFIX) as TokenKind[]) {
    const prefix = TOKEN_PREFIX[kind];
    if (!bearer.startsWith(prefix)) continue;
    const body = bearer.slice(prefix.length);
    if (!BODY.test(body)) return null;
    return { kind, lookupId: body.slice(0, LOOKUP_ID_CHARS), secret: body.slice(LOOKUP_ID_CHARS) };
  }
  return null;
}

/** True for a string that starts like one of these tokens (well-formed or not). */
export function looksLikeCredentialToken(bearer: string): boolean {
  return Object.values(TOKEN_PREFIX).some((p) => bearer.startsWith(p));
}

const LABEL = "poindexter/credential-hash/v1";
const encoder = new TextEncoder();

/**
 * HMAC of the secret under this feature's key. Without ENCRYPTION_KEY (a bare test backend) the
 * label is the key: still a one-way hash of a 256-bit random value.
 */
export async function presentedHash(secret: string, encryptionKey: string | undefined): Promise<string> {
  return await keyedHex(secret, encryptionKey, LABEL);
}

export function newSalt(): string {
  return randomBase62(SALT_CHARS);
}

/** What a row stores: the presented hash salted with the row's own salt. */
export async function storedHash(salt: string, presented: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(`${salt}:${presented}`));
  return hex(new Uint8Array(digest));
}

export async function matchesStored(row: { salt: string; tokenHash: string }, presented: string): Promise<boolean> {
  return constantTimeEqual(await storedHash(row.salt, presented), row.tokenHash);
}

/**
 * The proxy carries "which row, and the presented hash" as one string through the ledger's
 * `keyHash` argument (`<lookupId>.<presented>`), so the metered path needs no new argument.
 */
export function encodeBearerHash(lookupId: string, presented: string): string {
  return `${lookupId}.${presented}`;
}

export function decodeBearerHash(value: string): { lookupId: string; presented: string } | null {
  const dot = value.indexOf(".");
  if (dot !== LOOKUP_ID_CHARS) return null;
  return { lookupId: value.slice(0, dot), presented: value.slice(dot + 1) };
}
