// POST /api/provisioning/token: issues (or rotates) the signed-in account's scoped credential for
// one provider; GET /api/provisioning/token?provider=...: the account's usable credentials'
// metadata, and whether the holder should fetch a new one. The caller is the person whose
// Convex/Clerk JWT is the Bearer (ctx.auth), never an id in the request.
import { v } from "convex/values";
import { httpAction, type ActionCtx, type MutationCtx, type QueryCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { internalMutation, internalQuery } from "../functions";
import { userByTokenIdentifier } from "../lib/accounts";
import { actorOf } from "../lib/audit";
import { capabilities } from "../model/accounts/accountState";
import { isProviderId, resolveScopes } from "../model/credentials/lifecycle";
import {
  type AccountExpectations,
  expectationsFrom,
  malformedExpectation,
  mismatchedExpectation,
  parseTokenRequest,
} from "../model/credentials/provisioning";
import type { ProviderId } from "../model/pricing";
import { readJsonBody } from "../proxy/request";
import { errorResponse, jsonResponse, withOpenAiErrors } from "../proxy/respond";
import { credentialProviderValidator, credentialViewValidator } from "../schema/credentials";
import { takeMintSlot } from "./limits";
import { credentialView, issueCredential, liveCredentials } from "./store";

const failureValidator = v.object({ ok: v.literal(false), status: v.number(), code: v.string(), message: v.string() });
type Failure = typeof failureValidator.type;

const fail = (status: number, code: string, message: string): Failure => ({ ok: false, status, code, message });

const NOT_SIGNED_IN = "Send the signed-in user's Convex/Clerk JWT as 'Authorization: Bearer <jwt>'.";

/** The account behind a JWT, or why it cannot get credentials. */
async function accountFor(ctx: QueryCtx, tokenIdentifier: string) {
  const user = await userByTokenIdentifier(ctx, tokenIdentifier);
  if (user === null) return fail(403, "account_not_found", "Your account is not set up yet. Sign in to the dashboard once to finish it.");
  if (!capabilities(user.state).useProxy) {
    return fail(403, "account_inactive", `Your account is ${user.state}; it cannot use the AI proxy, so no credential is issued.`);
  }
  return { ok: true as const, user };
}

async function issueHandler(
  ctx: MutationCtx,
  args: { tokenIdentifier: string; provider: ProviderId; scopes?: string[]; expect: AccountExpectations },
) {
  const account = await accountFor(ctx, args.tokenIdentifier);
  if (!account.ok) return account;
  const { user } = account;
  const mismatch = mismatchedExpectation(args.expect, { id: user._id, plan: user.plan, state: user.state });
  if (mismatch !== null) return fail(mismatch.status, mismatch.code, mismatch.message);
  const scopes = resolveScopes(args.provider, args.scopes);
  if (!scopes.ok) return fail(400, "invalid_scope", scopes.message);
  const wait = await takeMintSlot(ctx, "credentialIssue", user._id);
  if (wait !== null) return fail(429, "rate_limit_exceeded", `Too many credentials issued for this account; retry in ${Math.ceil(wait / 1000)} s.`);
  const issued = await issueCredential(ctx, { user, provider: args.provider, scopes: scopes.scopes, actor: actorOf(user), now: Date.now() });
  return { ok: true as const, token: issued.token, credential: credentialView(issued.credential), rotated: issued.rotated };
}

/** The only answer that ever contains the credential's plain token. */
export const issue = internalMutation({
  args: {
    tokenIdentifier: v.string(),
    provider: credentialProviderValidator,
    scopes: v.optional(v.array(v.string())),
    expect: v.object({ accountId: v.optional(v.string()), planTier: v.optional(v.string()), planStatus: v.optional(v.string()) }),
  },
  returns: v.union(
    v.object({ ok: v.literal(true), token: v.string(), credential: credentialViewValidator, rotated: v.number() }),
    failureValidator,
  ),
  handler: issueHandler,
});

async function currentHandler(ctx: QueryCtx, args: { tokenIdentifier: string; provider: ProviderId }) {
  const user = await userByTokenIdentifier(ctx, args.tokenIdentifier);
  if (user === null) return fail(403, "account_not_found", "Your account is not set up yet. Sign in to the dashboard once to finish it.");
  const live = await liveCredentials(ctx, user._id, args.provider);
  live.sort((a, b) => b.issuedAt - a.issuedAt);
  return { ok: true as const, credentials: live.map(credentialView) };
}

export const current = internalQuery({
  args: { tokenIdentifier: v.string(), provider: credentialProviderValidator },
  returns: v.union(v.object({ ok: v.literal(true), credentials: v.array(credentialViewValidator) }), failureValidator),
  handler: currentHandler,
});

function failure(f: Failure): Response {
  const type = f.status === 400 || f.status === 401 ? "invalid_request_error" : f.status === 409 ? "conflict_error" : f.status === 429 ? "requests" : "permission_error";
  return errorResponse(f.status, { message: f.message, type, code: f.code });
}

/** Times go out as epoch ms and ISO strings (the spec's clients read either). */
function wire(c: typeof credentialViewValidator.type) {
  return {
    ...c,
    issuedAtIso: new Date(c.issuedAt).toISOString(),
    expiresAtIso: new Date(c.expiresAt).toISOString(),
  };
}

async function postTokenHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return failure(fail(401, "not_signed_in", NOT_SIGNED_IN));
  const expect = expectationsFrom(request.headers);
  const malformed = malformedExpectation(expect);
  if (malformed !== null) return failure(fail(malformed.status, malformed.code, malformed.message));
  const body = await readJsonBody(request);
  if (!body.ok) return body.response;
  const parsed = parseTokenRequest(body.value);
  if (!parsed.ok) return failure(fail(400, "invalid_request", parsed.message));
  if (!isProviderId(parsed.value.provider)) return failure(fail(400, "invalid_request", "Unknown provider."));
  const result = await ctx.runMutation(internal.credentials.provisioning.issue, {
    tokenIdentifier: identity.tokenIdentifier,
    provider: parsed.value.provider,
    scopes: parsed.value.scopes,
    expect,
  });
  if (!result.ok) return failure(result);
  // no-store: the token must not land in any cache between here and the holder.
  return jsonResponse(201, { token: result.token, token_type: "Bearer", credential: wire(result.credential), rotated: result.rotated }, { "cache-control": "no-store" });
}

async function getTokenHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return failure(fail(401, "not_signed_in", NOT_SIGNED_IN));
  const provider = new URL(request.url).searchParams.get("provider") ?? "";
  if (!isProviderId(provider)) return failure(fail(400, "invalid_request", "Add ?provider= with one of openai, anthropic, gemini, elevenlabs."));
  const result = await ctx.runQuery(internal.credentials.provisioning.current, { tokenIdentifier: identity.tokenIdentifier, provider });
  if (!result.ok) return failure(result);
  const active = result.credentials.find((c) => c.status === "active");
  // No active credential (the cron started a rotation, or none was ever issued): POST for one.
  return jsonResponse(200, { credentials: result.credentials.map(wire), refresh: active === undefined }, { "cache-control": "no-store" });
}

export const postToken = httpAction(withOpenAiErrors(postTokenHandler));
export const getToken = httpAction(withOpenAiErrors(getTokenHandler));
