// POST /webhooks/clerk: Clerk's user events, delivered by Svix. The signature is checked on
// the raw body before anything is parsed (Svix signs Standard Webhooks under svix-* header
// names; the library also refuses timestamps more than 5 minutes off). A verified event is
// recorded and applied by ONE internal mutation (events.ts), so a redelivery changes nothing.
// No provider is called here: Clerk gets its answer well inside its timeout.
import type { HttpRouter } from "convex/server";
import { Webhook } from "standardwebhooks";
import { internal } from "../_generated/api";
import { type ActionCtx, env, httpAction } from "../_generated/server";
import { eventTypeOf, parseClerkEvent, standardHeadersFromSvix } from "../model/clerk/webhook";

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** The verifier for CLERK_WEBHOOK_SECRET, or why there is none (a deployment problem: 500). */
function verifier(): Webhook | string {
  const secret = env.CLERK_WEBHOOK_SECRET;
  if (!secret) return "CLERK_WEBHOOK_SECRET is not set on this deployment.";
  try {
    return new Webhook(secret);
  } catch {
    return "CLERK_WEBHOOK_SECRET is not a Clerk signing secret (whsec_<base64>).";
  }
}

async function clerkWebhookHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const webhook = verifier();
  // A 5xx makes Svix retry, so events sent while the secret is missing arrive once it is set.
  if (typeof webhook === "string") return json(500, { error: webhook });
  const headers = standardHeadersFromSvix((name) => request.headers.get(name));
  if (headers === null) return json(400, { error: "Missing svix-id, svix-timestamp or svix-signature header." });
  // The raw text, not re-serialized JSON: the signature covers these exact bytes.
  const body = await request.text();
  try {
    webhook.verify(body, headers, { jsonParse: false });
  } catch (e) {
    return json(400, { error: `Webhook signature verification failed: ${(e as Error).message}.` });
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return json(400, { error: "The webhook body is not JSON." });
  }
  const type = eventTypeOf(parsed);
  if (type === null) return json(400, { error: "The webhook body is not a Clerk event (no `type`)." });
  const result = await ctx.runMutation(internal.clerk.events.record, {
    eventId: headers["webhook-id"],
    type,
    event: parseClerkEvent(parsed),
  });
  return json(200, { received: true, ...result });
}

const clerkWebhook = httpAction(clerkWebhookHandler);

export function mountClerkRoutes(http: HttpRouter): void {
  http.route({ path: "/webhooks/clerk", method: "POST", handler: clerkWebhook });
}
