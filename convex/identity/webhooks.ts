// POST /webhooks/telnyx: inbound SMS. The ed25519 signature (TELNYX_PUBLIC_KEY) over
// `${telnyx-timestamp}|${raw body}` and the timestamp (within 5 minutes) are checked on the raw
// body before anything is parsed; then ONE internal mutation (sms.ts) records the event and
// applies it. No provider call happens here, so Telnyx gets its 2xx well inside its 2 s.
import type { HttpRouter } from "convex/server";
import { internal } from "../_generated/api";
import { type ActionCtx, env, httpAction } from "../_generated/server";
import { accept, type Checked, receiveWebhook, refuse } from "../lib/webhooks";
import { verifyTelnyxSignature } from "../model/identity/telnyxSignature";

interface TelnyxHeaders {
  signature: string;
  timestamp: string;
}

/** The parts of Telnyx's `message.received` envelope the app uses, or why the body is not one. */
export function parseTelnyxEvent(event: unknown): Checked<{ eventId: string; eventType: string; from: string; to: string; text: string }> {
  const data = (event as { data?: { id?: unknown; event_type?: unknown; payload?: unknown } } | null)?.data;
  if (typeof data?.id !== "string" || typeof data.event_type !== "string") return refuse("The webhook body is not a Telnyx event (no data.id / data.event_type).");
  const payload = (data.payload ?? {}) as { from?: { phone_number?: unknown }; to?: { phone_number?: unknown }[]; text?: unknown };
  const from = typeof payload.from?.phone_number === "string" ? payload.from.phone_number : "";
  const to = Array.isArray(payload.to) && typeof payload.to[0]?.phone_number === "string" ? payload.to[0].phone_number : "";
  const text = typeof payload.text === "string" ? payload.text : "";
  if (data.event_type === "message.received" && (!from || !to)) return refuse("A message.received event without from/to phone numbers.");
  return accept({ eventId: data.id, eventType: data.event_type, from, to, text: text.slice(0, 5_000) });
}

async function telnyxWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  return await receiveWebhook(ctx, request, {
    // Codes are sealed with ENCRYPTION_KEY before they are written: both must be set (a 500 makes Telnyx retry).
    secret: () => {
      if (!env.TELNYX_PUBLIC_KEY) return refuse("TELNYX_PUBLIC_KEY is not set on this deployment.");
      if (!env.ENCRYPTION_KEY) return refuse("ENCRYPTION_KEY is not set on this deployment.");
      return accept(env.TELNYX_PUBLIC_KEY);
    },
    headers: (req) => {
      const signature = req.headers.get("telnyx-signature-ed25519");
      const timestamp = req.headers.get("telnyx-timestamp");
      return signature && timestamp ? accept({ signature, timestamp }) : refuse("Missing telnyx-signature-ed25519 or telnyx-timestamp header.");
    },
    verify: async (body, headers: TelnyxHeaders, publicKey) => {
      const result = await verifyTelnyxSignature({ rawBody: body, signature: headers.signature, timestamp: headers.timestamp, publicKey });
      if (!result.ok) {
        const why = { missing_headers: "missing headers", bad_timestamp: "malformed timestamp", stale: "timestamp more than 5 minutes off", bad_key: "TELNYX_PUBLIC_KEY is not a base64 ed25519 key", bad_signature: "the signature does not match the body" };
        throw new Error(why[result.reason]);
      }
    },
    mutation: internal.identity.sms.receive,
    args: (event) => parseTelnyxEvent(event),
  });
}

const telnyxWebhook = httpAction(telnyxWebhookHandler);

export function mountIdentityRoutes(http: HttpRouter): void {
  http.route({ path: "/webhooks/telnyx", method: "POST", handler: telnyxWebhook });
}
