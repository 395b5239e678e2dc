// Operations: account deletion requests and their progress (convex/privacy/README.md). A request
// arrives from one of three doors (the customer's Settings page, support, Clerk's user.deleted
// webhook) and is carried to the end by one orchestrated process (model/privacy/deletion.ts):
// requested -> in_progress -> done, one step at a time, each step recorded here.
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const deletionSourceValidator = v.union(v.literal("user"), v.literal("support"), v.literal("clerk"));

export const deletionStatusValidator = v.union(v.literal("requested"), v.literal("in_progress"), v.literal("done"));

export const deletionStepNameValidator = v.union(
  v.literal("block_access"),
  v.literal("cancel_subscription"),
  v.literal("await_providers"),
  v.literal("erase"),
  v.literal("finalize"),
);

export const deletionStepValidator = v.object({
  name: deletionStepNameValidator,
  status: v.union(v.literal("pending"), v.literal("running"), v.literal("done"), v.literal("failed")),
  attempts: v.number(),
  startedAt: v.optional(v.number()),
  finishedAt: v.optional(v.number()),
  // What the step did, for the progress view ("3 API keys revoked", "1,204 rows erased").
  note: v.optional(v.string()),
  lastError: v.optional(v.string()),
});

/**
 * Where the erase step is: the plan entry (model/privacy/erasePlan.ts), which of its lookup values,
 * the index page within it, and the rows handled so far.
 */
export const eraseCursorValidator = v.object({
  entry: v.number(),
  value: v.number(),
  page: v.union(v.string(), v.null()),
  rows: v.number(),
});

export const operationsTables = {
  // One account deletion. userId and clerkUserId identify the person while the request runs and
  // are cleared when it is done: afterwards the row holds only the tombstone (a random users id
  // that carries the invoices and aggregated usage) and the progress, never a way back.
  deletionRequests: defineTable({
    userId: v.optional(v.id("users")),
    // Set for the Clerk door (user.deleted); absent for the others and once done.
    clerkUserId: v.optional(v.string()),
    requestedAt: v.number(),
    source: deletionSourceValidator,
    status: deletionStatusValidator,
    // Who asked: "self", a support agent's label, or "clerk"; the reason support gave.
    requestedBy: v.optional(v.string()),
    reason: v.optional(v.string()),
    steps: v.optional(v.array(deletionStepValidator)),
    // When the runner is next due (a retry's backoff, the wait for the providers).
    wakeAt: v.optional(v.number()),
    tombstoneId: v.optional(v.id("users")),
    eraseCursor: v.optional(eraseCursorValidator),
    finishedAt: v.optional(v.number()),
    updatedAt: v.optional(v.number()),
  })
    // One open request per Clerk user: a second user.deleted finds this row.
    .index("by_clerkUserId", ["clerkUserId"])
    // One open request per account: a second request from any door finds this row.
    .index("by_userId", ["userId"])
    // The sweep works through open requests, oldest first.
    .index("by_status_and_requestedAt", ["status", "requestedAt"]),
};
