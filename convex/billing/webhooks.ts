// POST /webhooks/stripe and /webhooks/polar. The signature is checked on the raw body before
// anything is parsed (Stripe: constructEventAsync; Polar: Standard Webhooks under either secret
// scheme), then ONE internal mutation (events.ts) records the event and applies it. Nothing here
// calls a provider: a re-fetch goes to the providerPool workpool, so the answer comes well
// inside the providers' timeouts (Polar: 10 s, and it disables an endpoint after 10 failures).
//
//   400: missing or bad signature, timestamp more than 5 minutes off, not an event: nothing recorded
//   500: the deployment lacks the webhook secret (the provider retries once it is set)
//   200: recorded (applied, ignored or failed: see webhookEvents), or a duplicate (replayed: true)
import type { HttpRouter } from "convex/server";
import { internal } from "../_generated/api";
import { type ActionCtx, env, httpAction } from "../_generated/server";
import { normalizePolarEvent, polarEventType } from "../model/billing/polarEvents";
import { normalizeStripeEvent, stripeEventHeader } from "../model/billing/stripeEvents";
import { verifyPolarWebhook } from "../providers/billing/polar";
import { verifyStripeWebhook } from "../providers/billing/stripe";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

async function stripeWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const secret = env.STRIPE_WEBHOOK_SECRET;
  if (!secret) return json(500, { error: "STRIPE_WEBHOOK_SECRET is not set on this deployment." });
  const signature = request.headers.get("stripe-signature");
  if (!signature) return json(400, { error: "Missing Stripe-Signature header." });
  // The raw text, not re-serialized JSON: the signature covers these exact bytes.
  const body = await request.text();
  let event: unknown;
  try {
    event = await verifyStripeWebhook(body, signature, secret);
  } catch (e) {
    return json(400, { error: `Webhook signature verification failed: ${(e as Error).message}.` });
  }
  const header = stripeEventHeader(event);
  if (header === null) return json(400, { error: "The webhook body is not a Stripe event (no id, type or created)." });
  const result = await ctx.runMutation(internal.billing.events.record, {
    provider: "stripe",
    eventId: header.id,
    type: header.type,
    fact: normalizeStripeEvent(event),
  });
  return json(200, { received: true, ...result });
}

async function polarWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const secret = env.POLAR_WEBHOOK_SECRET;
  if (!secret) return json(500, { error: "POLAR_WEBHOOK_SECRET is not set on this deployment." });
  const id = request.headers.get("webhook-id")?.trim();
  const timestamp = request.headers.get("webhook-timestamp")?.trim();
  const signature = request.headers.get("webhook-signature")?.trim();
  if (!id || !timestamp || !signature) return json(400, { error: "Missing webhook-id, webhook-timestamp or webhook-signature header." });
  const body = await request.text();
  try {
    verifyPolarWebhook(body, { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature }, secret);
  } catch (e) {
    return json(400, { error: `Webhook signature verification failed: ${(e as Error).message}.` });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return json(400, { error: "The webhook body is not JSON." });
  }
  const type = polarEventType(parsed);
  if (type === null) return json(400, { error: "The webhook body is not a Polar event (no `type`)." });
  // Polar keeps webhook-id across its retries: it is the event's id.
  const result = await ctx.runMutation(internal.billing.events.record, {
    provider: "polar",
    eventId: id,
    type,
    fact: normalizePolarEvent(parsed),
  });
  return json(200, { received: true, ...result });
}

const stripeWebhook = httpAction(stripeWebhookHandler);
const polarWebhook = httpAction(polarWebhookHandler);

export function mountBillingRoutes(http: HttpRouter): void {
  http.route({ path: "/webhooks/stripe", method: "POST", handler: stripeWebhook });
  http.route({ path: "/webhooks/polar", method: "POST", handler: polarWebhook });
}
