// Reading a request: the caller's key (as the hash the ledger looks up), the JSON body within
// its size limit, the model, and the client's metadata.
import { bearerToken, hashSecret, isWellFormedSecret, randomBase62 } from "../model/apiKeySecrets";
import { badRequest, errorResponse, unauthorized } from "./respond";

/** Largest request body accepted (chat with a few inline images fits comfortably). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export function newRequestId(): string {
  return `req_${randomBase62(24)}`;
}

/**
 * The one path from `Authorization: Bearer <key>` to the hash stored in apiKeys, or the 401 a
 * request without a usable key gets. Keys that cannot be ours are refused here, before any
 * database read or body parsing, so a client without a key learns that first (as from OpenAI).
 */
export async function keyHashOf(request: Request): Promise<{ ok: true; hash: string } | { ok: false; response: Response }> {
  const secret = bearerToken(request.headers.get("authorization"));
  if (secret === null) return { ok: false, response: unauthorized() };
  if (!isWellFormedSecret(secret)) {
    return {
      ok: false,
      response: unauthorized("Incorrect API key provided. Poindexter keys start with pk_live_ or pk_test_."),
    };
  }
  return { ok: true, hash: await hashSecret(secret) };
}

export type BodyResult = { ok: true; value: Record<string, unknown> } | { ok: false; response: Response };

/** Reads and parses a JSON object body, refusing oversized or malformed input. */
export async function readJsonBody(request: Request): Promise<BodyResult> {
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
  let text: string;
  try {
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length > MAX_BODY_BYTES) return { ok: false, response: tooLarge() };
    text = new TextDecoder().decode(bytes);
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
  keyHash: string;
  body: Record<string, unknown>;
  model: string;
}

/**
 * The opening every model endpoint shares: a well-formed key (checked before the body is
 * read, so keyless callers cost nothing), a JSON object body, and a `model`.
 */
export async function readModelRequest(request: Request): Promise<({ ok: true } & ModelRequest) | { ok: false; response: Response }> {
  const key = await keyHashOf(request);
  if (!key.ok) return key;
  const parsed = await readJsonBody(request);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (typeof body.model !== "string" || body.model.length === 0) {
    return {
      ok: false,
      response: badRequest("You must provide a model parameter.", "model", "missing_required_parameter"),
    };
  }
  return { ok: true, keyHash: key.hash, body, model: body.model };
}
