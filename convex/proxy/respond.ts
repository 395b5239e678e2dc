// Responses in OpenAI's shape, shared by the AI proxy and the Dex API: JSON, errors
// `{error: {message, type, param, code}}`, CORS, and a last-resort 500 in the same shape.
import { ConvexError } from "convex/values";
import { describeRequestIds, requestIdsOf, withRequestIdHeaders } from "../lib/requestId";

export const CORS_HEADERS: Record<string, string> = {
  // Keys authenticate requests, not cookies, so any origin may call with its own key.
  "access-control-allow-origin": "*",
  "access-control-expose-headers":
    "x-request-id, x-client-request-id, x-poindexter-credential-refresh, x-poindexter-credential-expires-at, retry-after, x-should-retry, x-ratelimit-limit-requests, x-ratelimit-remaining-requests, x-ratelimit-reset-requests, x-ratelimit-limit-tokens, x-ratelimit-remaining-tokens, x-ratelimit-reset-tokens",
};

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

const UTF8_ENCODER = new TextEncoder();

/** HTTP status of each ConvexError code (lib/errors.ts and billing's codes); others are 400. */
const STATUS_OF_CODE: Record<string, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  RATE_LIMITED: 429,
  BILLING_PROVIDER_ERROR: 502,
  BILLING_NOT_CONFIGURED: 503,
};

/**
 * A refusal a function threw (ConvexError {code, message}) in OpenAI's error shape, for the Dex
 * API's endpoints that call mutations and actions; anything else is rethrown (a 500 via
 * withOpenAiErrors).
 */
export function convexErrorResponse(e: unknown): Response {
  if (e instanceof ConvexError && e.data && typeof e.data === "object") {
    const { code, message } = e.data as { code?: string; message?: string };
    const status = STATUS_OF_CODE[code ?? ""] ?? 400;
    return errorResponse(status, {
      message: message ?? "Request refused.",
      type: status >= 500 ? "server_error" : "invalid_request_error",
      code: code?.toLowerCase() ?? null,
    });
  }
  throw e;
}

/** Any path under /v1/ that no route serves: OpenAI's 404, in JSON like every other answer. */
export function unknownRoute(request: Request): Response {
  const { pathname } = new URL(request.url);
  return withRequestIdHeaders(errorResponse(404, {
    message: `Unknown request URL: ${request.method} ${pathname}. Check the path and method; the API reference lists every endpoint.`,
    type: "invalid_request_error",
    code: "unknown_url",
  }), requestIdsOf(request));
}

/** Answers a CORS preflight for any proxy or Dex API route. */
export function preflightResponse(request: Request): Response {
  return new Response(null, {
    status: 204,
    headers: {
      ...CORS_HEADERS,
      "access-control-allow-methods": "GET, POST, PUT, DELETE, OPTIONS",
      "access-control-allow-headers":
        request.headers.get("access-control-request-headers") ?? "authorization, content-type, x-dex-instance",
      "access-control-max-age": "86400",
    },
  });
}

/**
 * Any unexpected failure still answers in OpenAI's shape (clients parse `error.message`), with
 * a 500 the SDK retries; the hold of a request that failed midway expires on its own. Every
 * answer, refusals and this 500 included, carries the request's id (lib/requestId.ts): the one
 * its usage event is stored under, and the one the log line names.
 */
export function withOpenAiErrors<Ctx>(
  handler: (ctx: Ctx, request: Request) => Promise<Response>,
): (ctx: Ctx, request: Request) => Promise<Response> {
  return async (ctx, request) => {
    const ids = requestIdsOf(request);
    let response: Response;
    try {
      response = await handler(ctx, request);
    } catch (e) {
      console.error(`${request.method} ${new URL(request.url).pathname} failed (${describeRequestIds(ids)})`, e);
      response = errorResponse(500, {
        message: `The proxy failed to handle this request (${ids.requestId}). Retry; if it persists, contact Poindexter support with this id.`,
        type: "server_error",
        code: "internal_error",
      });
    }
    return withRequestIdHeaders(response, ids);
  };
}

/**
 * A complete reply whose usage is recorded while the client reads it. The body goes out whole,
 * with its Content-Length, so a client has its answer as soon as the bytes arrive; the stream
 * ends only once `settle` has committed, so the function, and with it the request's billing,
 * still finishes inside the request (an HTTP action runs until its body ends). The hold covers
 * the request until then, so admission's bound is unchanged. Settling starts when the reader
 * asks for what follows the body, or when a client that went away cancels it: every reply is
 * settled exactly once.
 * A settle that still fails after its retries errors the stream (logged by the runtime); the
 * client already has its bytes, and the hold expires on its own.
 */
export function replyThenSettle(
  body: Uint8Array | string,
  init: { status: number; headers: Record<string, string> },
  settle: () => Promise<unknown>,
): Response {
  const bytes = typeof body === "string" ? UTF8_ENCODER.encode(body) : body;
  let bodyRead!: () => void;
  const firstRead = new Promise<void>((resolve) => (bodyRead = resolve));
  // Chained here, while the handler runs, so the settle runs as part of this function's
  // execution whoever reads the body (a test's client reads it outside of it).
  const settled = firstRead.then(settle);
  // Awaited by pull or cancel; this only keeps a failure from also being reported as unhandled.
  settled.catch(() => {});
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      if (bytes.length > 0) controller.enqueue(bytes);
    },
    async pull(controller) {
      bodyRead();
      await settled;
      controller.close();
    },
    async cancel() {
      bodyRead();
      await settled;
    },
    // No read-ahead: pull (the settle) runs when the reader asks for what follows the body, so
    // it never competes with handing the body over.
  }, { highWaterMark: 0 });
  return new Response(stream, {
    status: init.status,
    headers: { ...init.headers, "content-length": String(bytes.length) },
  });
}
