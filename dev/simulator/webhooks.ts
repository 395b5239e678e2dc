/**
 * Webhook delivery from the simulator to the app: one POST per event with the provider's
 * signature headers, recorded in the delivery log (`GET /_sim/webhooks`) with the app's answer.
 * Delivery is awaited by the control call that caused it, so a test knows the app has answered.
 */
import { createHmac } from "node:crypto";
import { SimHttpError } from "./http.ts";
import type { SimulatorState, WebhookDelivery } from "./state.ts";

const DELIVERY_TIMEOUT_MS = 15_000;

export interface WebhookSpec {
  provider: string;
  url: string | null;
  eventType: string;
  eventId: string;
  body: string;
  /** Signature headers, computed at each (re)delivery since they embed the send time. */
  sign: () => Record<string, string>;
}

/** What a redelivery needs, per state and delivery seq. */
const specs = new WeakMap<SimulatorState, Map<number, WebhookSpec>>();

export async function deliverWebhook(state: SimulatorState, spec: WebhookSpec, redeliveryOf: number | null = null): Promise<WebhookDelivery> {
  const headers = spec.sign();
  const base = { provider: spec.provider, eventType: spec.eventType, eventId: spec.eventId, body: spec.body, headers, url: spec.url ?? "", at: Date.now(), redeliveryOf };
  let delivery: WebhookDelivery;
  if (!spec.url) {
    delivery = state.recordDelivery({ ...base, status: null, error: "no webhook URL configured" });
  } else {
    try {
      const response = await fetch(spec.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: spec.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      delivery = state.recordDelivery({ ...base, status: response.status, error: null });
    } catch (error) {
      delivery = state.recordDelivery({ ...base, status: null, error: (error as Error).message });
    }
  }
  let byState = specs.get(state);
  if (!byState) {
    const created = new Map<number, WebhookSpec>();
    byState = created;
    specs.set(state, created);
    state.onReset(() => created.clear());
  }
  byState.set(delivery.seq, spec);
  return delivery;
}

/**
 * Sends a recorded event again, as providers do when the app did not answer 2xx: same body and
 * event id, fresh signature. This is how tests prove the app applies each event once.
 */
export async function redeliverWebhook(state: SimulatorState, seq: number, url?: string): Promise<WebhookDelivery> {
  const spec = specs.get(state)?.get(seq);
  if (!spec) throw new SimHttpError(404, `No webhook delivery #${seq} to redeliver (the log keeps the last requestLogSize).`);
  return deliverWebhook(state, { ...spec, url: url ?? spec.url }, seq);
}

/** `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body" keyed by the whsec_ string>`. */
export function stripeSignature(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${v1}`;
}
