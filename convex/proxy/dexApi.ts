// Dex-facing API routes that are authenticated by API key but call no provider:
// GET /v1/models, /v1/api-keys (list, create, revoke), /v1/usage and /v1/usage/remaining.
import { httpAction } from "../_generated/server";
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { ConvexError } from "convex/values";
import { capabilities } from "../model/accountState";
import { bearerToken, hashSecret } from "../model/apiKeyTokens";
import { getPlan, type PlanId } from "../model/plans";
import { isPriced } from "../model/pricing";
import { isMonth, monthOf } from "../model/quota";
import { badRequest, clientIp, errorResponse, jsonResponse, readJsonBody, unauthorized, withOpenAiErrors } from "./respond";

interface Caller {
  userId: Id<"users">;
  keyId: Id<"apiKeys">;
  plan: PlanId;
  state: Parameters<typeof capabilities>[0];
}

async function authenticate(ctx: ActionCtx, request: Request): Promise<{ ok: true; caller: Caller } | { ok: false; response: Response }> {
  const secret = bearerToken(request.headers.get("authorization"));
  if (secret === null) return { ok: false, response: unauthorized() };
  const result = await ctx.runMutation(internal.apiKeys.authenticate, {
    hash: await hashSecret(secret),
    ip: clientIp(request),
  });
  if (!result.ok) return { ok: false, response: unauthorized(result.message) };
  return { ok: true, caller: result };
}

/** Fixed creation time for listed models: clients only display it. */
const MODEL_CREATED = 1_700_000_000;

function modelObject(id: string) {
  return { id, object: "model", created: MODEL_CREATED, owned_by: "openai" };
}

/** Only models the caller's plan may use (and that are priced: nothing is served free). */
export const listModels = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  if (!capabilities(auth.caller.state).useProxy) return forbiddenState(auth.caller.state);
  const models = getPlan(auth.caller.plan).models.filter(isPriced);
  return jsonResponse(200, { object: "list", data: models.map(modelObject) });
}));

export const retrieveModel = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  if (!capabilities(auth.caller.state).useProxy) return forbiddenState(auth.caller.state);
  const id = decodeURIComponent(new URL(request.url).pathname.slice("/v1/models/".length));
  const models = getPlan(auth.caller.plan).models.filter(isPriced);
  if (!models.includes(id)) {
    return errorResponse(404, {
      message: `The model '${id}' does not exist or is not available on your plan.`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    });
  }
  return jsonResponse(200, modelObject(id));
}));

function forbiddenState(state: string): Response {
  return errorResponse(403, {
    message: `Your account is ${state}; the AI proxy is not available. See the Poindexter dashboard.`,
    type: "permission_error",
    code: "account_inactive",
  });
}

/** ConvexError({code, message}) from a mutation, mapped to OpenAI's error shape. */
function fromConvexError(e: unknown): Response {
  if (e instanceof ConvexError && e.data && typeof e.data === "object") {
    const { code, message } = e.data as { code?: string; message?: string };
    const status = code === "NOT_FOUND" ? 404 : code === "CONFLICT" ? 409 : code === "INVALID_ARGUMENT" ? 400 : 403;
    return errorResponse(status, { message: message ?? "Request refused.", type: "invalid_request_error", code: code?.toLowerCase() ?? null });
  }
  throw e;
}

export const listKeys = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  const keys = await ctx.runQuery(internal.apiKeys.listForUser, { userId: auth.caller.userId, now: Date.now() });
  return jsonResponse(200, { object: "list", data: keys.map(({ _id, ...rest }) => ({ id: _id, ...rest })) });
}));

export const createKey = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  const parsed = await readJsonBody(request);
  if (!parsed.ok) return parsed.response;
  const { name, environment } = parsed.value;
  if (typeof name !== "string") return badRequest("'name' must be a string.", "name", "missing_required_parameter");
  if (environment !== undefined && environment !== "live" && environment !== "test") {
    return badRequest("'environment' must be 'live' or 'test'.", "environment");
  }
  try {
    const created = await ctx.runMutation(internal.apiKeys.createForUser, {
      userId: auth.caller.userId,
      name,
      environment,
    });
    return jsonResponse(201, { id: created.keyId, secret: created.secret, prefix: created.prefix });
  } catch (e) {
    return fromConvexError(e);
  }
}));

export const revokeKey = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  const id = decodeURIComponent(new URL(request.url).pathname.slice("/v1/api-keys/".length));
  if (!id) return badRequest("Put the key id in the path: DELETE /v1/api-keys/{id}.", "id");
  try {
    await ctx.runMutation(internal.apiKeys.revokeForUser, { userId: auth.caller.userId, keyId: id });
    return jsonResponse(200, { id, object: "api_key", revoked: true });
  } catch (e) {
    return fromConvexError(e);
  }
}));

function monthParam(request: Request): string | Response {
  const month = new URL(request.url).searchParams.get("month") ?? monthOf(Date.now());
  return isMonth(month) ? month : badRequest("'month' must look like 2026-11.", "month");
}

export const usageReport = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  const month = monthParam(request);
  if (month instanceof Response) return month;
  const report = await ctx.runQuery(internal.usage.reportForUser, { userId: auth.caller.userId, month });
  return jsonResponse(200, { ...report.summary, models: report.models });
}));

export const usageRemaining = httpAction(withOpenAiErrors(async (ctx, request) => {
  const auth = await authenticate(ctx, request);
  if (!auth.ok) return auth.response;
  const month = monthParam(request);
  if (month instanceof Response) return month;
  return jsonResponse(200, await ctx.runQuery(internal.usage.remainingForUser, { userId: auth.caller.userId, month }));
}));
