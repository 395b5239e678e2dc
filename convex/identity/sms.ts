// An inbound SMS from Telnyx's verified webhook, recorded in ONE mutation (webhookEvents row,
// provider "telnyx", keyed by the event id, so Telnyx's redeliveries change nothing). Matched by
// the `to` number: to an identity whose Signal registration is under way, a text carrying a
// 6-digit code is Signal's code (kept sealed, never logged) and resumes the verification; any
// other SMS is stored in incomingSms for 30 days. No provider is called here: the verification
// goes to the workpool, so the webhook answers well inside Telnyx's 2 s.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc } from "../_generated/dataModel";
import { env, type MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { findStep } from "../model/identity/provisioning";
import { seal } from "../model/identity/secrets";
import { extractSignalCode } from "../model/identity/telnyxSignature";
import { advance, machineOf } from "./lifecycle";

const PROVIDER = "telnyx";
export const SMS_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;
const PURGE_BATCH = 500;

export const inboundSmsValidator = v.object({
  eventId: v.string(),
  eventType: v.string(),
  from: v.string(),
  to: v.string(),
  text: v.string(),
});

/** Signal's registration is under way: the request is in flight, or its code is awaited. */
function expectsSignalCode(row: Doc<"identities">): boolean {
  const machine = machineOf(row);
  const register = findStep(machine, "signal_register");
  const code = findStep(machine, "signal_code");
  // The code can arrive before the registration's own completion is recorded (Signal texts it
  // while answering the request): it is kept until the code step starts waiting.
  return register?.status === "running" || code?.status === "waiting";
}

async function receiveHandler(ctx: MutationCtx, sms: typeof inboundSmsValidator.type): Promise<{ outcome: string; replayed: boolean }> {
  const seen = await ctx.db
    .query("webhookEvents")
    .withIndex("by_provider_and_eventId", (q) => q.eq("provider", PROVIDER).eq("eventId", sms.eventId))
    .first();
  if (seen !== null) return { outcome: seen.outcome, replayed: true };
  const now = Date.now();
  let outcome: string;
  if (sms.eventType !== "message.received") {
    outcome = `ignored: ${sms.eventType}`;
  } else {
    const identity = await ctx.db
      .query("identities")
      .withIndex("by_phoneNumber", (q) => q.eq("phoneNumber", sms.to))
      .order("desc")
      .first();
    const code = identity !== null && expectsSignalCode(identity) ? extractSignalCode(sms.text) : null;
    if (identity !== null && code !== null && env.ENCRYPTION_KEY) {
      await ctx.db.patch("identities", identity._id, { signalCodeSealed: await seal(env.ENCRYPTION_KEY, code), signalCodeReceivedAt: now });
      await advance(ctx, identity._id);
      outcome = "signal_code";
    } else {
      await ctx.db.insert("incomingSms", {
        to: sms.to,
        from: sms.from,
        text: sms.text,
        providerMessageId: sms.eventId,
        receivedAt: now,
        ...(identity !== null ? { userId: identity.userId, identityId: identity._id } : {}),
      });
      outcome = identity !== null ? "stored" : "stored: no identity has this number";
    }
  }
  await ctx.db.insert("webhookEvents", { provider: PROVIDER, eventId: sms.eventId, type: sms.eventType, receivedAt: now, outcome });
  return { outcome, replayed: false };
}

export const receive = internalMutation({
  args: inboundSmsValidator.fields,
  returns: v.object({ outcome: v.string(), replayed: v.boolean() }),
  handler: receiveHandler,
});

/** Retention: SMS older than 30 days go, a batch at a time (the next batch is scheduled). */
export const purgeOld = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - SMS_RETENTION_MS;
    const old = await ctx.db.query("incomingSms").withIndex("by_receivedAt", (q) => q.lt("receivedAt", cutoff)).take(PURGE_BATCH);
    for (const row of old) await ctx.db.delete("incomingSms", row._id);
    const signal = await ctx.db.query("signalMessages").withIndex("by_receivedAt", (q) => q.lt("receivedAt", cutoff)).take(PURGE_BATCH);
    for (const row of signal) await ctx.db.delete("signalMessages", row._id);
    if (old.length === PURGE_BATCH || signal.length === PURGE_BATCH) {
      await ctx.scheduler.runAfter(0, internal.identity.sms.purgeOld, {});
    }
    return old.length + signal.length;
  },
});
