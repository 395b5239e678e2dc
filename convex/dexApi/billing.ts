// GET /v1/billing/subscription, POST /v1/billing/subscribe {plan} and POST /v1/billing/portal:
// a Dex instance reads its account's billing and gets hosted checkout and portal URLs, with its
// account's key (not an OAuth token: endpoint.ts refuses it). The same code as the Billing page (billing/sessions.ts), errors in OpenAI's shape.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { ActionCtx } from "../_generated/server";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { openPortal, requirePaidPlan, startCheckout } from "../billing/sessions";
import { billingSummaryOf, billingSummaryValidator } from "../billing/view";
import { readJsonBody } from "../proxy/request";
import { badRequest, convexErrorResponse, jsonResponse } from "../proxy/respond";
import { type Call, dexEndpoint } from "./endpoint";

export const summaryOfUser = internalQuery({
  args: { userId: v.id("users") },
  returns: billingSummaryValidator,
  handler: async (ctx, { userId }) => await billingSummaryOf(ctx, await requireAccount(ctx, userId), Date.now()),
});

async function subscriptionHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const summary = await ctx.runQuery(internal.dexApi.billing.summaryOfUser, { userId: call.principal.userId });
  return jsonResponse(200, { object: "billing.subscription", ...summary });
}

async function subscribeHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  const parsed = await readJsonBody(call.request);
  if (!parsed.ok) return parsed.response;
  const { plan } = parsed.value;
  if (plan === undefined) return badRequest("Send {\"plan\": \"basic\"} or {\"plan\": \"pro\"}.", "plan", "missing_required_parameter");
  try {
    const session = await startCheckout(ctx, call.principal.userId, requirePaidPlan(plan));
    return jsonResponse(200, { object: "billing.checkout_session", url: session.url, provider: session.provider });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

async function portalHandler(ctx: ActionCtx, call: Call): Promise<Response> {
  try {
    const session = await openPortal(ctx, call.principal.userId);
    return jsonResponse(200, { object: "billing.portal_session", url: session.url, provider: session.provider });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

export const billingSubscription = dexEndpoint("getSubscription", subscriptionHandler);
export const billingSubscribe = dexEndpoint("subscribe", subscribeHandler);
export const billingPortal = dexEndpoint("billingPortal", portalHandler);
