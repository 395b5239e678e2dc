// GET /v1/identity (the provisioned identity: email address, phone number, Signal status,
// features), /v1/identity/status (each step), /v1/identity/email, /phone and /signal, scope
// `identity`. The same view of the row as the dashboard (identity/views.ts); errors in OpenAI's shape.
import { type Infer, v } from "convex/values";
import { internal } from "../_generated/api";
import type { ActionCtx } from "../_generated/server";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { shownIdentity } from "../identity/lifecycle";
import { factsOf, myIdentityOf, myIdentityValidator } from "../identity/views";
import { errorResponse, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint } from "./endpoint";

const foundValidator = v.object({ view: myIdentityValidator, mailboxReady: v.boolean(), createdAt: v.number(), activatedAt: v.union(v.number(), v.null()) });
type Found = Infer<typeof foundValidator>;

export const identityOfUser = internalQuery({
  args: { userId: v.id("users") },
  returns: v.union(v.null(), foundValidator),
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

const findIdentity = (ctx: ActionCtx, call: Call): Promise<Found | null> => ctx.runQuery(internal.dexApi.identity.identityOfUser, { userId: call.principal.userId });

/** The identity, or 404 when the account has none; the section handlers answer from it. */
function identityRoute(answer: (found: Found) => Response) {
  return async (ctx: ActionCtx, call: Call): Promise<Response> => {
    const found = await findIdentity(ctx, call);
    if (found === null) return errorResponse(404, NO_IDENTITY);
    return answer(found);
  };
}

const signalNumber = (view: Found["view"]) => (view.signalStatus === "verified" ? view.phoneNumber : null);

export const identity = dexEndpoint(
  "getIdentity",
  identityRoute(({ view, mailboxReady, createdAt, activatedAt }) =>
    jsonResponse(200, {
      object: "identity",
      status: view.status,
      phase: view.phase,
      features: view.features,
      email: view.features.email ? { address: view.emailAddress, ready: mailboxReady } : null,
      phone: view.features.phone ? { number: view.phoneNumber } : null,
      signal: view.features.signal ? { status: view.signalStatus, number: signalNumber(view) } : null,
      created_at: createdAt,
      activated_at: activatedAt,
    }),
  ),
);

export const identityStatus = dexEndpoint(
  "getIdentityStatus",
  identityRoute(({ view }) =>
    jsonResponse(200, {
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
    }),
  ),
);

export const identityEmail = dexEndpoint(
  "getIdentityEmail",
  identityRoute(({ view, mailboxReady }) => jsonResponse(200, { object: "identity.email", address: view.emailAddress, ready: mailboxReady })),
);

export const identityPhone = dexEndpoint(
  "getIdentityPhone",
  identityRoute(({ view }) => jsonResponse(200, { object: "identity.phone", number: view.phoneNumber, sms: view.phoneNumber !== null })),
);

export const identitySignal = dexEndpoint(
  "getIdentitySignal",
  identityRoute(({ view }) => jsonResponse(200, { object: "identity.signal", status: view.signalStatus, number: signalNumber(view) })),
);
