// GET/POST /v1/api-keys and DELETE /v1/api-keys/{id}: a Dex instance manages its account's
// keys with a key of that account (an OAuth token cannot mint keys: endpoint.ts refuses it).
import { v } from "convex/values";
import type { ActionCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation, internalQuery } from "../functions";
import {
  createdKeyValidator,
  createKeyFor,
  keyEnvironmentValidator,
  keySummaryValidator,
  listKeysOf,
  revokeKeyFor,
} from "../lib/apiKeys";
import { requireAccount } from "../lib/accounts";
import { fail } from "../lib/errors";
import { readJsonBody } from "../proxy/request";
import { badRequest, convexErrorResponse, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint } from "./endpoint";

export const listOfUser = internalQuery({
  args: { userId: v.id("users"), now: v.number() },
  returns: v.array(keySummaryValidator),
  handler: async (ctx, { userId, now }) => await listKeysOf(ctx, userId, now),
});

export const createForUser = internalMutation({
  args: { userId: v.id("users"), name: v.string(), environment: v.optional(keyEnvironmentValidator) },
  returns: createdKeyValidator,
  handler: async (ctx, args) =>
    await createKeyFor(ctx, await requireAccount(ctx, args.userId), {
      name: args.name,
      environment: args.environment ?? "live",
      createdBy: "dex",
      actorLabel: "dex",
    }),
});

export const revokeForUser = internalMutation({
  args: { userId: v.id("users"), keyId: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, keyId }) => {
    const id = ctx.db.normalizeId("apiKeys", keyId);
    if (id === null) fail("NOT_FOUND", "No such API key on your account.");
    await revokeKeyFor(ctx, userId, id, "dex");
    return null;
  },
});

async function listKeysHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const keys = await ctx.runQuery(internal.dexApi.apiKeys.listOfUser, { userId: call.principal.userId, now: Date.now() });
  return jsonResponse(200, { object: "list", data: keys.map(({ _id, ...rest }) => ({ id: _id, ...rest })) });
}

async function createKeyHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const parsed = await readJsonBody(call.request);
  if (!parsed.ok) return parsed.response;
  const { name, environment } = parsed.value;
  if (typeof name !== "string") return badRequest("'name' must be a string.", "name", "missing_required_parameter");
  if (environment !== undefined && environment !== "live" && environment !== "test") {
    return badRequest("'environment' must be 'live' or 'test'.", "environment");
  }
  try {
    const created = await ctx.runMutation(internal.dexApi.apiKeys.createForUser, {
      userId: call.principal.userId,
      name,
      environment,
    });
    return jsonResponse(201, { id: created.keyId, secret: created.secret, prefix: created.prefix });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

async function revokeKeyHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const id = call.id;
  try {
    await ctx.runMutation(internal.dexApi.apiKeys.revokeForUser, { userId: call.principal.userId, keyId: id });
    return jsonResponse(200, { id, object: "api_key", revoked: true });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

export const listKeys = dexEndpoint("listApiKeys", listKeysHandler);
export const createKey = dexEndpoint("createApiKey", createKeyHandler);
export const revokeKey = dexEndpoint("revokeApiKey", revokeKeyHandler);
