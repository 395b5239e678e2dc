// GET /v1/identity (the provisioned identity: email address, phone number, Signal status,
// features) and GET /v1/identity/status (each step), for a Dex instance with its account's key.
// The same view of the row as the dashboard (identity/views.ts); errors in OpenAI's shape.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { type ActionCtx, httpAction } from "../_generated/server";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { shownIdentity } from "../identity/lifecycle";
import { factsOf, myIdentityOf, myIdentityValidator } from "../identity/views";
import { authenticateCaller } from "../proxy/callers";
import { errorResponse, jsonResponse, withOpenAiErrors } from "../proxy/respond";

export const identityOfUser = internalQuery({
  args: { userId: v.id("users") },
  returns: v.union(
    v.null(),
    v.object({ view: myIdentityValidator, mailboxReady: v.boolean(), createdAt: v.number(), activatedAt: v.union(v.number(), v.null()) }),
  ),
  handler: async (ctx, { userId }) => {
    await requireAccount(ctx, userId);
    const row = await shownIdentity(ctx, userId);
    if (row === null) return null;
    return { view: myIdentityOf(row), mailboxReady: factsOf(row).mailboxReady, createdAt: row.createdAt, activatedAt: row.activatedAt ?? null };
  },
});

const NO_IDENTITY = {
  message: "This account has no identity. Basic and Pro plans include an email address, a phone number and Signal: subscribe with POST /v1/billing/subscribe.",
  type: "invalid_request_error",
  code: "identity_not_provisioned",
};

async function identityHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const found = await ctx.runQuery(internal.dexApi.identity.identityOfUser, { userId: auth.caller.userId });
  if (found === null) return errorResponse(404, NO_IDENTITY);
  const { view } = found;
  return jsonResponse(200, {
    object: "identity",
    status: view.status,
    phase: view.phase,
    features: view.features,
    email: view.features.email ? { address: view.emailAddress, ready: found.mailboxReady } : null,
    phone: view.features.phone ? { number: view.phoneNumber } : null,
    signal: view.features.signal ? { status: view.signalStatus, number: view.signalStatus === "verified" ? view.phoneNumber : null } : null,
    created_at: found.createdAt,
    activated_at: found.activatedAt,
  });
}

async function identityStatusHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const found = await ctx.runQuery(internal.dexApi.identity.identityOfUser, { userId: auth.caller.userId });
  if (found === null) return errorResponse(404, NO_IDENTITY);
  const { view } = found;
  return jsonResponse(200, {
    object: "identity.status",
    status: view.status,
    phase: view.phase,
    // What the account holder must do on the dashboard (a captcha, a retry), if anything.
    action: view.action,
    steps: view.steps.map((s) => ({
      name: s.name,
      label: s.label,
      status: s.status,
      waiting_for: s.waitingFor ?? null,
      not_before: s.notBefore ?? null,
      error: s.lastError ?? null,
      started_at: s.startedAt ?? null,
      finished_at: s.finishedAt ?? null,
    })),
  });
}

export const identity = httpAction(withOpenAiErrors(identityHandler));
export const identityStatus = httpAction(withOpenAiErrors(identityStatusHandler));
