/**
 * Webhook delivery from the simulator to the app: one POST per event with the provider's
 * signature headers, recorded in the delivery log (`GET /_sim/webhooks`) with the app's answer.
 * Delivery is awaited by the control call that caused it, so a test knows the app has answered.
 */
import { createHmac } from "node:crypto";
import type { SimulatorState, WebhookDelivery } from "./state.ts";

const DELIVERY_TIMEOUT_MS = 15_000;

export async function deliverWebhook(
  state: SimulatorState,
  delivery: { provider: string; url: string | null; eventType: string; eventId: string; body: string; headers: Record<string, string> },
): Promise<WebhookDelivery> {
  const base = { ...delivery, url: delivery.url ?? "", at: Date.now() };
  if (!delivery.url) return state.recordDelivery({ ...base, status: null, error: "no webhook URL configured" });
  try {
    const response = await fetch(delivery.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...delivery.headers },
      body: delivery.body,
      signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
    });
    await response.arrayBuffer();
    return state.recordDelivery({ ...base, status: response.status, error: null });
  } catch (error) {
    return state.recordDelivery({ ...base, status: null, error: (error as Error).message });
  }
}

/** `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body" keyed by the whsec_ string>`. */
export function stripeSignature(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const v1 = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return `t=${timestamp},v1=${v1}`;
}
