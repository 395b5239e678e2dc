// The one shape of an inbound webhook (Stripe, Polar, Clerk): the deployment's secret, the
// signature headers, the signature checked on the raw body before anything is parsed, the event
// read from that body, then ONE internal mutation that records and applies it. Every answer is
// JSON; nothing here calls a provider, so the answer comes well inside the providers' timeouts.
//
//   500: the deployment lacks (or has an unusable) secret: the provider retries once it is set
//   400: missing or bad signature, a body that is not JSON or not an event: nothing recorded
//   200: recorded, `{ received: true, ...what the mutation returned }`
import type { FunctionArgs, FunctionReference, OptionalRestArgs } from "convex/server";
import type { ActionCtx } from "../_generated/server";

export function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** A value, or why there is none (the error message of the answer). */
export type Checked<T> = { ok: true; value: T } | { ok: false; error: string };

export function accept<T>(value: T): { ok: true; value: T } {
  return { ok: true, value };
}

export function refuse(error: string): { ok: false; error: string } {
  return { ok: false, error };
}

type RecordMutation = FunctionReference<"mutation", "internal", Record<string, unknown>, Record<string, unknown>>;

export interface WebhookReceiver<Secret, Headers, M extends RecordMutation> {
  /** The secret (or the verifier made from it), or why there is none: a 500. */
  secret(): Checked<Secret>;
  /** The signature headers, or the 400 message when any is missing. */
  headers(request: Request): Checked<Headers>;
  /**
   * Throws when the signature does not cover the raw body. Returns `{ event }` when the check
   * itself parses the event; otherwise the body is parsed as JSON after the check.
   */
  verify(body: string, headers: Headers, secret: Secret): Promise<{ event: unknown } | void> | { event: unknown } | void;
  /** The mutation that records and applies the event, exactly once per event id. */
  mutation: M;
  /** The mutation's arguments, or the 400 message when the body is not this provider's event. */
  args(event: unknown, headers: Headers): Checked<FunctionArgs<M>>;
}

export async function receiveWebhook<Secret, Headers, M extends RecordMutation>(
  ctx: ActionCtx,
  request: Request,
  receiver: WebhookReceiver<Secret, Headers, M>,
): Promise<Response> {
  const secret = receiver.secret();
  if (!secret.ok) return json(500, { error: secret.error });
  const headers = receiver.headers(request);
  if (!headers.ok) return json(400, { error: headers.error });
  // The raw text, not re-serialized JSON: the signature covers these exact bytes.
  const body = await request.text();
  let verified: { event: unknown } | void;
  try {
    verified = await receiver.verify(body, headers.value, secret.value);
  } catch (e) {
    return json(400, { error: `Webhook signature verification failed: ${(e as Error).message}.` });
  }
  let event: unknown;
  if (verified) {
    event = verified.event;
  } else {
    try {
      event = JSON.parse(body);
    } catch {
      return json(400, { error: "The webhook body is not JSON." });
    }
  }
  const args = receiver.args(event, headers.value);
  if (!args.ok) return json(400, { error: args.error });
  const result = await ctx.runMutation(receiver.mutation, ...([args.value] as OptionalRestArgs<M>));
  return json(200, { received: true, ...result });
}
