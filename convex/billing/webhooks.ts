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
import { accept, receiveWebhook, refuse } from "../lib/webhooks";
import { normalizePolarEvent, polarEventType } from "../model/billing/polarEvents";
import { normalizeStripeEvent, stripeEventHeader } from "../model/billing/stripeEvents";
import { verifyPolarWebhook } from "../providers/billing/polar";
import { verifyStripeWebhook } from "../providers/billing/stripe";

async function stripeWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  return await receiveWebhook(ctx, request, {
    secret: () => (env.STRIPE_WEBHOOK_SECRET ? accept(env.STRIPE_WEBHOOK_SECRET) : refuse("STRIPE_WEBHOOK_SECRET is not set on this deployment.")),
    headers: (req) => {
      const signature = req.headers.get("stripe-signature");
      return signature ? accept(signature) : refuse("Missing Stripe-Signature header.");
    },
    // stripe-node parses the event it verified.
    verify: async (body, signature, secret) => ({ event: await verifyStripeWebhook(body, signature, secret) }),
    mutation: internal.billing.events.record,
    args: (event) => {
      const header = stripeEventHeader(event);
      if (header === null) return refuse("The webhook body is not a Stripe event (no id, type or created).");
      return accept({ provider: "stripe" as const, eventId: header.id, type: header.type, fact: normalizeStripeEvent(event) });
    },
  });
}

async function polarWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  return await receiveWebhook(ctx, request, {
    secret: () => (env.POLAR_WEBHOOK_SECRET ? accept(env.POLAR_WEBHOOK_SECRET) : refuse("POLAR_WEBHOOK_SECRET is not set on this deployment.")),
    headers: (req) => {
      const id = req.headers.get("webhook-id")?.trim();
      const timestamp = req.headers.get("webhook-timestamp")?.trim();
      const signature = req.headers.get("webhook-signature")?.trim();
      if (!id || !timestamp || !signature) return refuse("Missing webhook-id, webhook-timestamp or webhook-signature header.");
      return accept({ "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": signature });
    },
    verify: (body, headers, secret) => verifyPolarWebhook(body, headers, secret),
    mutation: internal.billing.events.record,
    args: (event, headers) => {
      const type = polarEventType(event);
      if (type === null) return refuse("The webhook body is not a Polar event (no `type`).");
      // Polar keeps webhook-id across its retries: it is the event's id.
      return accept({ provider: "polar" as const, eventId: headers["webhook-id"], type, fact: normalizePolarEvent(event) });
    },
  });
}

const stripeWebhook = httpAction(stripeWebhookHandler);
const polarWebhook = httpAction(polarWebhookHandler);

export function mountBillingRoutes(http: HttpRouter): void {
  http.route({ path: "/webhooks/stripe", method: "POST", handler: stripeWebhook });
  http.route({ path: "/webhooks/polar", method: "POST", handler: polarWebhook });
}
