// Polar adapter (@polar-sh/sdk): checkouts with external_customer_id (our user id, so the
// customer is one per user by construction), customer sessions for the portal, overage usage
// events (events ingest, deduplicated by external_id) and webhook verification. POLAR_BASE_URL points the SDK elsewhere (the provider simulator); POLAR_SERVER
// picks sandbox or production otherwise.
import { Polar } from "@polar-sh/sdk";
import { PolarError } from "@polar-sh/sdk/models/errors/polarerror.js";
import { Webhook } from "standardwebhooks";
import { env } from "../../_generated/server";
import { polarProductBook } from "./config";
import { type BillingProvider, BillingConfigError, BillingProviderError, type RefundRequest, type RefundResult, type UsageReport } from "./types";

function client(): Polar {
  const accessToken = env.POLAR_ACCESS_TOKEN;
  if (!accessToken) throw new BillingConfigError("POLAR_ACCESS_TOKEN is not set on this deployment: Polar checkout is unavailable.");
  const server = env.POLAR_SERVER === "production" ? "production" : "sandbox";
  return new Polar({
    accessToken,
    ...(env.POLAR_BASE_URL ? { serverURL: env.POLAR_BASE_URL.replace(/\/+$/, "") } : { server }),
    timeoutMs: 15_000,
  });
}

function providerError(e: unknown, what: string): BillingProviderError {
  if (e instanceof PolarError) {
    const status = e.statusCode;
    let detail = e.message;
    try {
      const body = JSON.parse(e.body) as { detail?: unknown };
      if (typeof body.detail === "string") detail = body.detail;
    } catch {
      // keep the SDK's message
    }
    return new BillingProviderError(`Polar could not ${what}: ${detail}`, status, status === 429 || status >= 500);
  }
  return new BillingProviderError(`Polar could not ${what}: ${(e as Error).message}`, null, true);
}

export const polarBilling: BillingProvider = {
  id: "polar",

  // Polar makes the customer at checkout from external_customer_id: one per user, nothing to reuse.
  async ensureCustomer() {
    return null;
  },

  async createCheckout(request) {
    const product = polarProductBook()[request.plan];
    if (!product) {
      throw new BillingConfigError(`POLAR_PRODUCT_${request.plan.toUpperCase()} is not set on this deployment: the ${request.plan} plan cannot be bought yet.`);
    }
    try {
      const checkout = await client().checkouts.create({
        products: [product],
        externalCustomerId: request.userId,
        customerEmail: request.email,
        successUrl: request.successUrl,
        returnUrl: request.cancelUrl,
        metadata: { userId: request.userId, plan: request.plan },
      });
      return { id: checkout.id, url: checkout.url };
    } catch (e) {
      throw providerError(e, "start the checkout");
    }
  },

  async createPortal({ userId, returnUrl }) {
    try {
      const session = await client().customerSessions.create({ externalCustomerId: userId, returnUrl });
      return { url: session.customerPortalUrl };
    } catch (e) {
      if (e instanceof PolarError && e.statusCode === 404) {
        throw new BillingProviderError("Polar has no customer for this account yet: choose a plan first.", 404, false);
      }
      throw providerError(e, "open the customer portal");
    }
  },

  // A Polar meter sums `metadata.tokens` over the events it filters by name.
  async reportUsage(report: UsageReport) {
    try {
      const result = await client().events.ingest({
        events: [
          {
            name: report.eventName,
            externalCustomerId: report.userId,
            externalId: report.identifier,
            timestamp: new Date(report.timestampS * 1_000),
            metadata: { tokens: report.quantity, month: report.month, meter: report.meter },
          },
        ],
      });
      return { duplicate: result.inserted === 0 && result.duplicates > 0 };
    } catch (e) {
      throw providerError(e, "record the usage");
    }
  },

  // Polar's meter quantities are per meter id and its event list is paginated raw events; the
  // monthly check compares our ledger and acknowledgements only.
  async reportedUsage() {
    return null;
  },

  // Polar's refund endpoint takes no idempotency header: the key rides in the refund's metadata,
  // and an earlier refund of the order carrying it is returned instead of making a second one.
  async refundInvoice(request: RefundRequest): Promise<RefundResult> {
    const polar = client();
    try {
      const pages = await polar.refunds.list({ orderId: request.providerInvoiceId, limit: 100 });
      for await (const page of pages) {
        const earlier = page.result.items.find((r) => r.metadata[POLAR_REFUND_KEY] === request.idempotencyKey);
        if (earlier) return { refundId: earlier.id, status: earlier.status, amountCents: earlier.amount };
      }
      const refund = await polar.refunds.create({
        orderId: request.providerInvoiceId,
        reason: "customer_request",
        amount: request.amountCents,
        metadata: { [POLAR_REFUND_KEY]: request.idempotencyKey, user_id: request.userId },
      });
      return { refundId: refund.id, status: refund.status, amountCents: refund.amount };
    } catch (e) {
      throw providerError(e, "refund the order");
    }
  },
};

/** The refund metadata field that carries our idempotency key. */
export const POLAR_REFUND_KEY = "poindexter_refund_key";

export interface StandardWebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/**
 * The two ways a Polar secret (`whsec_...` or, in the simulator, any string) keys the HMAC:
 * real Standard Webhooks (the base64-decoded part after `whsec_`, secrets made from 2026-09-08)
 * and the older scheme (the UTF-8 bytes of the whole secret string, what @polar-sh/sdk 0.x's
 * validateEvent does). A secret that is not base64 simply has no first verifier.
 */
function verifiers(secret: string): Webhook[] {
  const out: Webhook[] = [];
  try {
    out.push(new Webhook(secret));
  } catch {
    // not a base64 Standard Webhooks secret: only the UTF-8 scheme can match
  }
  out.push(new Webhook(new TextEncoder().encode(secret), { format: "raw" }));
  return out;
}

/**
 * Verifies a Polar webhook (Standard Webhooks: HMAC-SHA256 over `id.timestamp.body`, timestamp
 * within 5 minutes either way), trying the real scheme first, then the UTF-8-bytes one. Throws
 * with the reason (a stale timestamp is reported as such, not as a bad signature).
 */
export function verifyPolarWebhook(body: string, headers: StandardWebhookHeaders, secret: string): void {
  let reason = "No matching signature found";
  for (const webhook of verifiers(secret)) {
    try {
      webhook.verify(body, headers, { jsonParse: false });
      return;
    } catch (e) {
      const message = (e as Error).message;
      if (/timestamp/i.test(message)) reason = message;
    }
  }
  throw new Error(reason);
}
