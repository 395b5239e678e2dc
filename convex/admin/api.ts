// The admin HTTP API (the plan's `/v1/admin/*`), for scripts and back-office tools, with admin
// API keys (`Authorization: Bearer pdx_admin_...`, apiKeys.ts). Errors are JSON
// `{error: {code, message}}`; see README.md for every route, parameter and code.
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import type { HttpRouter } from "convex/server";
import { ConvexError } from "convex/values";
import { components, internal } from "../_generated/api";
import { type ActionCtx, httpAction } from "../_generated/server";
import { hashSecret } from "../model/apiKeySecrets";
import { classifyAuthorization } from "../model/admin/adminKeys";
import { isMonth, monthOf } from "../model/calendar";
import { parseAccountFilter, parseLimit } from "../model/admin/search";

/** Per admin key: scripts paging through every account stay well inside it; a loop does not. */
export const ADMIN_API_RATE_PER_MINUTE = 120;

const limiter = new RateLimiter(components.rateLimiter, {
  adminApi: { kind: "token bucket", rate: ADMIN_API_RATE_PER_MINUTE, period: MINUTE },
});

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store", ...headers },
  });
}

export function apiError(status: number, code: string, message: string, headers: Record<string, string> = {}): Response {
  return json(status, { error: { code, message } }, headers);
}

type Caller = { keyPrefix: string };

/** The admin key of the request, or the refusal to send (401 / 403 / 429). */
async function authenticate(ctx: ActionCtx, request: Request): Promise<Caller | Response> {
  const presented = classifyAuthorization(request.headers.get("authorization"));
  switch (presented.kind) {
    case "missing":
      return apiError(401, "missing_admin_key", "Send an admin API key: 'Authorization: Bearer pdx_admin_...'. Admins create one on the Admin API keys page.");
    case "customer_key":
      return apiError(401, "not_an_admin_key", "This is a customer API key; the admin API takes admin API keys (pdx_admin_...).");
    case "malformed":
      return apiError(401, "unknown_admin_key", "That is not an admin API key (pdx_admin_ followed by 43 letters and digits).");
  }
  const auth = await ctx.runMutation(internal.admin.apiKeys.authenticate, { hash: await hashSecret(presented.secret) });
  if (!auth.ok) {
    return auth.reason === "revoked"
      ? apiError(403, "admin_key_revoked", `The admin API key ${auth.prefix ?? ""}… was revoked. Ask an admin for a new one.`)
      : apiError(401, "unknown_admin_key", "No admin API key matches. Check the key, or ask an admin for a new one.");
  }
  const limit = await limiter.limit(ctx, "adminApi", { key: auth.keyId });
  if (!limit.ok) {
    const seconds = Math.max(1, Math.ceil(limit.retryAfter / 1000));
    return apiError(429, "rate_limited", `Too many requests with this admin key (${ADMIN_API_RATE_PER_MINUTE} a minute). Retry in ${seconds} s.`, { "retry-after": String(seconds) });
  }
  return { keyPrefix: auth.prefix };
}

/**
 * A cursor is opaque (one a previous page returned); the runtime rejects a mangled one with a
 * plain error while parsing it. With a cursor given, such an error is the caller's 400.
 */
function isCursorError(e: unknown, cursor: string | null): boolean {
  return cursor !== null && !(e instanceof ConvexError);
}

async function listUsersHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const caller = await authenticate(ctx, request);
  if (caller instanceof Response) return caller;
  const query = new URL(request.url).searchParams;
  const filter = parseAccountFilter(query);
  if (!filter.ok) return apiError(400, "invalid_parameter", filter.message);
  const limit = parseLimit(query.get("limit"));
  if (!limit.ok) return apiError(400, "invalid_parameter", limit.message);
  const cursor = query.get("cursor") || null;
  try {
    const page = await ctx.runQuery(internal.admin.apiData.users, { ...filter.value, paginationOpts: { numItems: limit.value, cursor } });
    return json(200, { data: page.data, next_cursor: page.cursor, has_more: page.cursor !== null });
  } catch (e) {
    if (isCursorError(e, cursor)) return apiError(400, "invalid_cursor", "cursor is not one this endpoint returned; start again without it.");
    throw e;
  }
}

async function usageHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const caller = await authenticate(ctx, request);
  if (caller instanceof Response) return caller;
  const query = new URL(request.url).searchParams;
  const month = query.get("month") || monthOf(Date.now());
  if (!isMonth(month)) return apiError(400, "invalid_parameter", `month must look like 2026-11; got '${month}'.`);
  const limit = parseLimit(query.get("limit"));
  if (!limit.ok) return apiError(400, "invalid_parameter", limit.message);
  const userId = query.get("userId") || undefined;
  const cursor = query.get("cursor") || null;
  try {
    const result = await ctx.runQuery(internal.admin.apiData.usage, { month, userId, paginationOpts: { numItems: limit.value, cursor } });
    if (result.kind === "unknown_user") return apiError(404, "user_not_found", `No user has the id '${userId}'.`);
    return json(200, { month, aggregate: result.aggregate, users: result.users, next_cursor: result.cursor, has_more: result.cursor !== null });
  } catch (e) {
    if (isCursorError(e, cursor)) return apiError(400, "invalid_cursor", "cursor is not one this endpoint returned; start again without it.");
    throw e;
  }
}

const PROVISION_PREFIX = "/v1/admin/provision/";
const ERROR_STATUS: Record<string, number> = { INVALID_ARGUMENT: 400, NOT_FOUND: 404, CONFLICT: 409, ILLEGAL_TRANSITION: 409, NOT_CONFIGURED: 503 };

async function provisionHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const caller = await authenticate(ctx, request);
  if (caller instanceof Response) return caller;
  const userId = decodeURIComponent(new URL(request.url).pathname.slice(PROVISION_PREFIX.length));
  if (userId === "" || userId.includes("/")) return apiError(404, "user_not_found", "Name the user: POST /v1/admin/provision/{userId}.");
  let body: unknown;
  try {
    body = JSON.parse((await request.text()) || "{}");
  } catch {
    return apiError(400, "invalid_json", "The body must be JSON: {\"reason\": \"...\"}.");
  }
  const reason = typeof body === "object" && body !== null ? (body as { reason?: unknown }).reason : undefined;
  if (typeof reason !== "string" || reason.trim().length < 3) {
    return apiError(400, "invalid_parameter", "reason is required (at least 3 characters); it goes in the audit log.");
  }
  try {
    const result = await ctx.runMutation(internal.admin.apiData.provision, { userId, reason: reason.slice(0, 500), keyPrefix: caller.keyPrefix });
    if (result.kind === "unknown_user") return apiError(404, "user_not_found", `No user has the id '${userId}'.`);
    return json(202, { userId, identityId: result.identityId, status: "provisioning" });
  } catch (e) {
    if (e instanceof ConvexError) {
      const data = e.data as { code?: string; message?: string };
      const code = data.code ?? "INVALID_ARGUMENT";
      return apiError(ERROR_STATUS[code] ?? 400, code.toLowerCase(), data.message ?? "The identity could not be provisioned.");
    }
    throw e;
  }
}

export const listUsers = httpAction(listUsersHandler);
export const usage = httpAction(usageHandler);
export const provision = httpAction(provisionHandler);

/** GET /v1/admin/users, GET /v1/admin/usage, POST /v1/admin/provision/{userId}. */
export function mountAdminApiRoutes(http: HttpRouter): void {
  http.route({ path: "/v1/admin/users", method: "GET", handler: listUsers });
  http.route({ path: "/v1/admin/usage", method: "GET", handler: usage });
  http.route({ pathPrefix: PROVISION_PREFIX, method: "POST", handler: provision });
}
