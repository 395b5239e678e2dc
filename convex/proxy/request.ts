// Reading a request: the caller's Bearer secret (as the hash the ledger looks up), the JSON body
// within its size limit, the model, and the client's metadata.
import { env } from "../_generated/server";
import type { SecretKind } from "../lib/callerAuth";
import { bearerToken, hashSecret, isWellFormedSecret } from "../model/apiKeySecrets";
import { kindOf, secretHash } from "../model/oauth/secrets";
import { encodeBearerHash, looksLikeCredentialToken, parseToken, presentedHash } from "../model/credentials/tokens";
import { badRequest, errorResponse, unauthorized } from "./respond";

/** Largest request body accepted (chat with a few inline images fits comfortably). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

/** The Bearer secret as the ledger looks it up: its stored hash and which table holds it. */
export interface BearerSecret {
  kind: SecretKind;
  hash: string;
}

/**
 * The one path from `Authorization: Bearer <secret>` to the hash the ledger and the lookups
 * find it by, or the 401 a request without a usable secret gets. Two kinds are accepted: an API
 * key (`pk_live_`/`pk_test_`, stored as SHA-256) and an OAuth access token (`pdx_at_`, stored as
 * a keyed HMAC, model/oauth/secrets.ts). Anything that cannot be one of ours (a refresh token
 * included) is refused here, before any database read or body parsing, so a client without a
 * usable secret learns that first (as from OpenAI).
 */
export async function bearerSecretOf(request: Request): Promise<{ ok: true; secret: BearerSecret } | { ok: false; response: Response }> {
  const secret = bearerToken(request.headers.get("authorization"));
  if (secret === null) return { ok: false, response: unauthorized() };
  if (looksLikeCredentialToken(secret)) {
    // A provider credential or browser session token: the row's lookup id and the presented
    // hash travel together; the row's salt is applied where the row is read (credentials/bearer.ts).
    const parsed = parseToken(secret);
    if (parsed === null) {
      return { ok: false, response: unauthorized("Incorrect credential provided. Get a new one from POST /api/session or POST /api/provisioning/token.") };
    }
    return {
      ok: true,
      secret: { kind: parsed.kind, hash: encodeBearerHash(parsed.lookupId, await presentedHash(parsed.secret, env.ENCRYPTION_KEY)) },
    };
  }
  if (secret.startsWith("pdx_")) {
    const kind = kindOf(secret);
    if (kind !== "access") {
      return {
        ok: false,
        response: unauthorized(kind === null
          ? "Incorrect access token provided. Connect the instance again."
          : "This is not an access token. Send the access_token from /oauth/token, not the refresh token."),
      };
    }
    return { ok: true, secret: { kind: "access_token", hash: await secretHash(secret, env.ENCRYPTION_KEY) } };
  }
  if (!isWellFormedSecret(secret)) {
    return {
      ok: false,
      response: unauthorized("Incorrect API key provided. Poindexter keys start with pk_live_ or pk_test_; access tokens with pdx_at_."),
    };
  }
  return { ok: true, secret: { kind: "api_key", hash: await hashSecret(secret) } };
}

export type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

// One decoder for every body: decoding without `stream` keeps no state between calls.
const UTF8 = new TextDecoder();

/** Reads and parses a JSON object body, refusing oversized or malformed input. */
export async function readJsonBody(request: Request): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
  let text: string;
  try {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
    text = UTF8.decode(bytes);
  } catch {
    return { ok: false, response: badRequest("The request body could not be read.") };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return {
      ok: false,
      response: badRequest("We could not parse the JSON body of your request. Send valid JSON with 'content-type: application/json'."),
    };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, response: badRequest("The request body must be a JSON object.") };
  }
  return { ok: true, value: value as Record<string, unknown> };
}

function tooLarge(): Response {
  return errorResponse(413, {
    message: `The request body is larger than ${MAX_BODY_BYTES} bytes.`,
    type: "invalid_request_error",
    code: "request_too_large",
  });
}

/** The caller's address as the edge reports it (first x-forwarded-for hop). */
export function clientIp(request: Request): string | undefined {
  const forwarded = request.headers.get("x-forwarded-for");
  const ip = forwarded?.split(",")[0]?.trim() || request.headers.get("x-real-ip")?.trim();
  return ip ? ip.slice(0, 64) : undefined;
}

/** Optional `x-dex-instance` header naming the Dex instance that made the call. */
export function instanceIdOf(request: Request): string | undefined {
  const id = request.headers.get("x-dex-instance")?.trim();
  return id ? id.slice(0, 128) : undefined;
}

export function positiveInt(value: unknown): number | null | "invalid" {
  if (value === undefined || value === null) return null;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) return "invalid";
  return value;
}

export interface ModelRequest {
  secret: BearerSecret;
  body: Record<string, unknown>;
  model: string;
}

/**
 * The opening every model endpoint shares: a well-formed key or access token (checked before
 * the body is read, so callers without one cost nothing), a JSON object body, and a `model`.
 */
export async function readModelRequest(request: Request): Promise<({ ok: true } & ModelRequest) | { ok: false; response: Response }> {
  const bearer = await bearerSecretOf(request);
  if (!bearer.ok) return bearer;
  const parsed = await readJsonBody(request);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (typeof body.model !== "string" || body.model.length === 0) {
    return {
      ok: false,
      response: badRequest("You must provide a model parameter.", "model", "missing_required_parameter"),
    };
  }
  return { ok: true, secret: bearer.secret, body, model: body.model };
}
