// A verified Clerk webhook event, recorded and applied in ONE transaction: the webhookEvents
// row (provider "clerk", eventId = svix-id) is both the idempotency record and the outcome, so
// a redelivery finds it and changes nothing, and an event is never applied without its record.
import { v } from "convex/values";
import { env, type MutationCtx } from "../_generated/server";
import type { Doc, Id } from "../_generated/dataModel";
import { internalMutation } from "../functions";
import { userByTokenIdentifier } from "../lib/accounts";
import { type Actor, audit } from "../lib/audit";
import { startDeletion } from "../privacy/process";
import { type ClerkEvent, type ClerkOutcome, clerkTokenIdentifier, isStaleUpdate } from "../model/clerk/webhook";

const PROVIDER = "clerk";

/** Changes Clerk asks for are made by no person: the audit trail names Clerk. */
const CLERK_ACTOR: Actor = { label: "clerk" };

const EMAIL_CHANGED = "account.email_changed";

export const clerkEventValidator = v.union(
  v.object({
    kind: v.literal("user.updated"),
    clerkUserId: v.string(),
    primaryEmail: v.union(v.string(), v.null()),
    updatedAt: v.union(v.number(), v.null()),
  }),
  v.object({ kind: v.literal("user.deleted"), clerkUserId: v.string() }),
  v.object({ kind: v.literal("other") }),
  v.object({ kind: v.literal("malformed"), reason: v.string() }),
);

/** The account whose tokenIdentifier Convex builds from Clerk's issuer and this user id. */
async function accountOfClerkUser(ctx: MutationCtx, clerkUserId: string): Promise<Doc<"users"> | null> {
  const issuer = env.CLERK_JWT_ISSUER_DOMAIN;
  // Without the issuer no Clerk token is trusted (auth.config.ts), so no account is Clerk's.
  if (!issuer) return null;
  return await userByTokenIdentifier(ctx, clerkTokenIdentifier(issuer, clerkUserId));
}

/** Clerk's updated_at of the last email change a Clerk webhook made to this account. */
async function lastClerkEmailChange(ctx: MutationCtx, userId: Id<"users">): Promise<number | null> {
  const rows = ctx.db
    .query("auditLogs")
    .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
    .order("desc");
  for await (const row of rows) {
    if (row.action !== EMAIL_CHANGED || row.actorLabel !== CLERK_ACTOR.label) continue;
    const at = row.metadata?.clerkUpdatedAt;
    return typeof at === "number" ? at : null;
  }
  return null;
}

async function applyUserUpdated(
  ctx: MutationCtx,
  event: Extract<ClerkEvent, { kind: "user.updated" }>,
  eventId: string,
): Promise<ClerkOutcome> {
  const user = await accountOfClerkUser(ctx, event.clerkUserId);
  if (user === null) return "no_account";
  if (event.primaryEmail === null) return "no_verified_primary_email";
  if (event.primaryEmail === user.email) return "email_unchanged";
  // Svix delivers in no particular order: an older update must not undo a newer one.
  if (isStaleUpdate(event.updatedAt, await lastClerkEmailChange(ctx, user._id))) return "stale_update";
  await ctx.db.patch("users", user._id, { email: event.primaryEmail });
  await audit(ctx, CLERK_ACTOR, EMAIL_CHANGED, { type: "user", id: user._id }, "primary email changed in Clerk", {
    from: user.email,
    to: event.primaryEmail,
    clerkUserId: event.clerkUserId,
    clerkEventId: eventId,
    clerkUpdatedAt: event.updatedAt,
  });
  return "email_updated";
}

async function applyUserDeleted(
  ctx: MutationCtx,
  event: Extract<ClerkEvent, { kind: "user.deleted" }>,
  eventId: string,
): Promise<ClerkOutcome> {
  const open = await ctx.db
    .query("deletionRequests")
    .withIndex("by_clerkUserId", (q) => q.eq("clerkUserId", event.clerkUserId))
    .first();
  if (open !== null) return "deletion_already_requested";
  const user = await accountOfClerkUser(ctx, event.clerkUserId);
  const requestId = await ctx.db.insert("deletionRequests", {
    userId: user?._id,
    clerkUserId: event.clerkUserId,
    requestedAt: Date.now(),
    source: "clerk",
    status: "requested",
  });
  // The account is the target when there is one; otherwise the Clerk user is all we know.
  const target = user === null ? { type: "clerkUser", id: event.clerkUserId } : { type: "user", id: user._id };
  await audit(ctx, CLERK_ACTOR, "account.deletion_requested", target, "user deleted in Clerk", {
    clerkUserId: event.clerkUserId,
    clerkEventId: eventId,
    deletionRequestId: requestId,
  });
  // The deletion itself runs as scheduled steps (privacy/process.ts), after this commit.
  await startDeletion(ctx, requestId);
  return "deletion_requested";
}

async function apply(ctx: MutationCtx, event: ClerkEvent, eventId: string): Promise<ClerkOutcome> {
  switch (event.kind) {
    case "user.updated":
      return await applyUserUpdated(ctx, event, eventId);
    case "user.deleted":
      return await applyUserDeleted(ctx, event, eventId);
    case "other":
      return "ignored";
    case "malformed":
      return "malformed";
  }
}

/**
 * Records the event and applies it, once per svix-id. A replay answers the first delivery's
 * outcome with `replayed: true`. The (provider, eventId) check and the insert are in this
 * one transaction, so two concurrent deliveries of the same event cannot both apply it.
 */
async function recordHandler(
  ctx: MutationCtx,
  args: { eventId: string; type: string; event: ClerkEvent },
): Promise<{ outcome: string; replayed: boolean }> {
  const seen = await ctx.db
    .query("webhookEvents")
    .withIndex("by_provider_and_eventId", (q) => q.eq("provider", PROVIDER).eq("eventId", args.eventId))
    .unique();
  if (seen !== null) return { outcome: seen.outcome, replayed: true };
  const outcome = await apply(ctx, args.event, args.eventId);
  await ctx.db.insert("webhookEvents", {
    provider: PROVIDER,
    eventId: args.eventId,
    type: args.type,
    receivedAt: Date.now(),
    outcome,
  });
  return { outcome, replayed: false };
}

export const record = internalMutation({
  args: { eventId: v.string(), type: v.string(), event: clerkEventValidator },
  // The outcome is a ClerkOutcome when written; a replay returns whatever the row holds, so
  // renaming an outcome later never makes an old event's redelivery fail.
  returns: v.object({ outcome: v.string(), replayed: v.boolean() }),
  handler: recordHandler,
});
