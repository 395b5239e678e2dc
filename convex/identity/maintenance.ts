// Identity upkeep on a timer (crons.ts):
//  - Signal keep-alive: signal-cli must receive regularly (messages queue up and an account that
//    never receives goes inactive). Each verified number is received on the providerPool; what
//    arrives is stored in signalMessages for the Dex API (signal-cli hands each message out once).
//  - the sweep: a deprovisioning identity whose Workspace deletion is due and a code wait past
//    its deadline are advanced even if their scheduled wake-up was lost.
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { ActionCtx } from "../_generated/server";
import { internalAction, internalMutation } from "../functions";
import { providerPool } from "../lib/providerPool";
import { dueSteps } from "../model/identity/provisioning";
import * as signal from "../providers/identity/signal";
import { advance, machineOf } from "./lifecycle";

/** Numbers enqueued per mutation; a longer list continues in a scheduled follow-up with the cursor. */
const KEEP_ALIVE_PAGE = 200;
const SWEEP_BATCH = 200;
/** A receive that fails is retried a little; the next run tries again anyway. */
const RECEIVE_RETRY = { maxAttempts: 3, initialBackoffMs: 10_000, base: 2 } as const;

export const keepAlive = internalMutation({
  args: { cursor: v.optional(v.string()) },
  returns: v.number(),
  handler: async (ctx, { cursor }) => {
    const page = await ctx.db
      .query("identities")
      .withIndex("by_signalStatus", (q) => q.eq("signalStatus", "verified"))
      .paginate({ numItems: KEEP_ALIVE_PAGE, cursor: cursor ?? null });
    let queued = 0;
    for (const row of page.page) {
      // Not once deprovisioning has begun: the account is about to be unregistered.
      if (row.phoneNumber === undefined || (row.phase !== "active" && row.phase !== "suspended" && row.phase !== "provisioning")) continue;
      await providerPool.enqueueAction(ctx, internal.identity.maintenance.receive, { identityId: row._id, number: row.phoneNumber }, { retry: RECEIVE_RETRY, name: "identity:signal_receive" });
      queued++;
    }
    if (!page.isDone) await ctx.scheduler.runAfter(0, internal.identity.maintenance.keepAlive, { cursor: page.continueCursor });
    return queued;
  },
});

async function receiveHandler(ctx: ActionCtx, args: { identityId: Id<"identities">; number: string }): Promise<number> {
  const config = signal.signalConfigFromEnv();
  if (!config) return 0;
  const received = await signal.receive(config, args.number);
  // A permanent refusal (the number is no longer registered) is for the identity's own steps to find.
  if (received.kind !== "ok" || received.value.length === 0) return 0;
  return await ctx.runMutation(internal.identity.maintenance.storeSignalMessages, {
    identityId: args.identityId,
    messages: received.value.map((m) => ({ source: m.source, message: m.message.slice(0, 10_000), sentAt: m.timestamp })),
  });
}

export const receive = internalAction({
  args: { identityId: v.id("identities"), number: v.string() },
  returns: v.number(),
  handler: receiveHandler,
});

/** Stores received messages once each (a retried receive may hand the same ones over again). */
export const storeSignalMessages = internalMutation({
  args: {
    identityId: v.id("identities"),
    messages: v.array(v.object({ source: v.string(), message: v.string(), sentAt: v.number() })),
  },
  returns: v.number(),
  handler: async (ctx, { identityId, messages }) => {
    const row = await ctx.db.get("identities", identityId);
    if (row === null || row.phoneNumber === undefined) return 0;
    let stored = 0;
    const now = Date.now();
    for (const m of messages) {
      const dup = await ctx.db
        .query("signalMessages")
        .withIndex("by_identityId_and_source_and_sentAt", (q) => q.eq("identityId", identityId).eq("source", m.source).eq("sentAt", m.sentAt))
        .first();
      if (dup !== null) continue;
      await ctx.db.insert("signalMessages", { userId: row.userId, identityId, number: row.phoneNumber, ...m, receivedAt: now });
      stored++;
    }
    return stored;
  },
});

/** Advances identities a lost wake-up would leave waiting (deletion after retention, a code deadline). */
export const sweep = internalMutation({
  args: { phase: v.optional(v.union(v.literal("provisioning"), v.literal("deprovisioning"))), cursor: v.optional(v.string()) },
  returns: v.number(),
  handler: async (ctx, args) => {
    const phase = args.phase ?? "deprovisioning";
    const now = Date.now();
    const page = await ctx.db
      .query("identities")
      .withIndex("by_phase", (q) => q.eq("phase", phase))
      .paginate({ numItems: SWEEP_BATCH, cursor: args.cursor ?? null });
    let advanced = 0;
    for (const row of page.page) {
      const due = dueSteps(machineOf(row), now).length > 0;
      const overdueWake = row.wakeAt !== undefined && now >= row.wakeAt + 60_000;
      if (!(due || overdueWake)) continue;
      if (overdueWake) await ctx.scheduler.runAfter(0, internal.identity.steps.wake, { identityId: row._id });
      else await advance(ctx, row._id);
      advanced++;
    }
    // Every page of this phase, then the other phase.
    if (!page.isDone) await ctx.scheduler.runAfter(0, internal.identity.maintenance.sweep, { phase, cursor: page.continueCursor });
    else if (phase === "deprovisioning") await ctx.scheduler.runAfter(0, internal.identity.maintenance.sweep, { phase: "provisioning" });
    return advanced;
  },
});
