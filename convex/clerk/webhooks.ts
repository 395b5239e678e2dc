// POST /webhooks/clerk: Clerk's user events, delivered by Svix. The signature is checked on
// the raw body before anything is parsed (Svix signs Standard Webhooks under svix-* header
// names; the library also refuses timestamps more than 5 minutes off). A verified event is
// recorded and applied by ONE internal mutation (events.ts), so a redelivery changes nothing.
// No provider is called here: Clerk gets its answer well inside its timeout.
import type { HttpRouter } from "convex/server";
import { Webhook } from "standardwebhooks";
import { internal } from "../_generated/api";
import { type ActionCtx, env, httpAction } from "../_generated/server";
import { accept, type Checked, receiveWebhook, refuse } from "../lib/webhooks";
import { eventTypeOf, parseClerkEvent, standardHeadersFromSvix } from "../model/clerk/webhook";

/** The verifier for CLERK_WEBHOOK_SECRET, or why there is none (a deployment problem: 500). */
function verifier(): Checked<Webhook> {
  const secret = env.CLERK_WEBHOOK_SECRET;
  if (!secret) return refuse("CLERK_WEBHOOK_SECRET is not set on this deployment.");
  try {
    return accept(new Webhook(secret));
  } catch {
    return refuse("CLERK_WEBHOOK_SECRET is not a Clerk signing secret (whsec_<base64>).");
  }
}

async function clerkWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  return await receiveWebhook(ctx, request, {
    // A 5xx makes Svix retry, so events sent while the secret is missing arrive once it is set.
    secret: verifier,
    headers: (req) => {
      const headers = standardHeadersFromSvix((name) => req.headers.get(name));
      return headers === null ? refuse("Missing svix-id, svix-timestamp or svix-signature header.") : accept(headers);
    },
    verify: (body, headers, webhook) => {
      webhook.verify(body, headers, { jsonParse: false });
    },
    mutation: internal.clerk.events.record,
    args: (event, headers) => {
      const type = eventTypeOf(event);
      if (type === null) return refuse("The webhook body is not a Clerk event (no `type`).");
      return accept({ eventId: headers["webhook-id"], type, event: parseClerkEvent(event) });
    },
  });
}

const clerkWebhook = httpAction(clerkWebhookHandler);

export function mountClerkRoutes(http: HttpRouter): void {
  http.route({ path: "/webhooks/clerk", method: "POST", handler: clerkWebhook });
}
