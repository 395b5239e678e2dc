// GET /v1/billing/subscription, POST /v1/billing/subscribe {plan} and POST /v1/billing/portal:
// a Dex instance reads its account's billing and gets hosted checkout and portal URLs, with its
// account's key. The same code as the Billing page (billing/sessions.ts), errors in OpenAI's shape.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import { type ActionCtx, httpAction } from "../_generated/server";
import { internalQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { openPortal, requirePaidPlan, startCheckout } from "../billing/sessions";
import { billingSummaryOf, billingSummaryValidator } from "../billing/view";
import { authenticateCaller } from "../proxy/callers";
import { readJsonBody } from "../proxy/request";
import { badRequest, convexErrorResponse, jsonResponse, withOpenAiErrors } from "../proxy/respond";

export const summaryOfUser = internalQuery({
  args: { userId: v.id("users") },
  returns: billingSummaryValidator,
  handler: async (ctx, { userId }) => await billingSummaryOf(ctx, await requireAccount(ctx, userId), Date.now()),
});

async function subscriptionHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const summary = await ctx.runQuery(internal.dexApi.billing.summaryOfUser, { userId: auth.caller.userId });
  return jsonResponse(200, { object: "billing.subscription", ...summary });
}

async function subscribeHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  const parsed = await readJsonBody(request);
  if (!parsed.ok) return parsed.response;
  const { plan } = parsed.value;
  if (plan === undefined) return badRequest("Send {\"plan\": \"basic\"} or {\"plan\": \"pro\"}.", "plan", "missing_required_parameter");
  try {
    const session = await startCheckout(ctx, auth.caller.userId, requirePaidPlan(plan));
    return jsonResponse(200, { object: "billing.checkout_session", url: session.url, provider: session.provider });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

async function portalHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const auth = await authenticateCaller(ctx, request);
  if (!auth.ok) return auth.response;
  try {
    const session = await openPortal(ctx, auth.caller.userId);
    return jsonResponse(200, { object: "billing.portal_session", url: session.url, provider: session.provider });
  } catch (e) {
    return convexErrorResponse(e);
  }
}

export const billingSubscription = httpAction(withOpenAiErrors(subscriptionHandler));
export const billingSubscribe = httpAction(withOpenAiErrors(subscribeHandler));
export const billingPortal = httpAction(withOpenAiErrors(portalHandler));
