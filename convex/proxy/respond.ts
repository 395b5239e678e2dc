// HTTP plumbing shared by the proxy's handlers: OpenAI-shaped errors, CORS, body limits,
// request ids and client metadata.
import { bearerToken, isWellFormedSecret, randomBase62 } from "../model/apiKeyTokens";

/** Largest request body accepted (chat with a few inline images fits comfortably). */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export const CORS_HEADERS: Record<string, string> = {
  // Keys authenticate requests, not cookies, so any origin may call with its own key.
  "access-control-allow-origin": "*",
  "access-control-expose-headers":
    "x-request-id, retry-after, x-should-retry, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens",
};

export function newRequestId(): string {
  return `req_${randomBase62(24)}`;
}

export interface ErrorBody {
  message: string;
  type: string;
  param?: string | null;
  code?: string | null;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...CORS_HEADERS, ...headers },
  });
}

/** `{error: {message, type, param, code}}` with OpenAI's status semantics. */
export function errorResponse(status: number, err: ErrorBody, headers: Record<string, string> = {}): Response {
  return jsonResponse(
    status,
    { error: { message: err.message, type: err.type, param: err.param ?? null, code: err.code ?? null } },
    headers,
  );
}

export const badRequest = (message: string, param: string | null = null, code: string | null = null) =>
  errorResponse(400, { message, type: "invalid_request_error", param, code });

export function unauthorized(message = "Missing API key. Send 'Authorization: Bearer pk_live_...'.") {
  return errorResponse(401, { message, type: "invalid_request_error", code: "invalid_api_key" });
}

/** Answers a CORS preflight for any proxy route. */
export function preflightResponse(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "access-control-allow-methods": "GET, POST, DELETE, OPTIONS",
      "access-control-allow-headers":
        request.headers.get("access-control-request-headers") ?? "authorization, content-type, x-dex-instance",
      "access-control-max-age": "86400",
    },
  });
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

/**
 * Refuses a request whose Authorization header cannot hold one of our keys before its body is
 * read, so a client without a key learns that first (as from OpenAI). Whether the key exists
 * is decided by the admission mutation.
 */
export function missingKey(request: Request): Response | null {
  const secret = bearerToken(request.headers.get("authorization"));
  if (secret === null) return unauthorized();
  if (!isWellFormedSecret(secret)) {
    return unauthorized("Incorrect API key provided. Poindexter keys start with pk_live_ or pk_test_.");
  }
  return null;
}

/**
 * The opening every model endpoint shares: a well-formed key (checked before the body is
 * read, so keyless callers cost nothing), a JSON object body, and a `model`.
 */
export async function readModelRequest(
  request: Request,
): Promise<{ ok: true; body: Record<string, unknown>; model: string } | { ok: false; response: Response }> {
  const noKey = missingKey(request);
  if (noKey) return { ok: false, response: noKey };
  const parsed = await readJsonBody(request);
  if (!parsed.ok) return parsed;
  const body = parsed.value;
  if (typeof body.model !== "string" || body.model.length === 0) {
    return {
      ok: false,
      response: badRequest("You must provide a model parameter.", "model", "missing_required_parameter"),
    };
  }
  return { ok: true, body, model: body.model };
}

/**
 * Any unexpected failure still answers in OpenAI's shape (clients parse `error.message`), with
 * a 500 the SDK retries; the hold of a request that failed midway expires on its own.
 */
export function withOpenAiErrors<Ctx>(
  handler: (ctx: Ctx, request: Request) => Promise<Response>,
): (ctx: Ctx, request: Request) => Promise<Response> {
  return async (ctx, request) => {
    try {
      return await handler(ctx, request);
    } catch (e) {
      console.error(`${request.method} ${new URL(request.url).pathname} failed`, e);
      return errorResponse(500, {
        message: "The proxy failed to handle this request. Retry; if it persists, contact Poindexter support.",
        type: "server_error",
        code: "internal_error",
      });
    }
  };
}
