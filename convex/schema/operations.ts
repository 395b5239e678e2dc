// Operations: requests that the operations issue (#13) carries out. Rows are written here as
// the requests arrive; the deletion itself (account, keys, identity, provider data) is
// performed by #13, which moves a request on from "requested".
import { defineTable } from "convex/server";
import { v } from "convex/values";

export const operationsTables = {
  // Someone asked for an account to be deleted. Today the only source is Clerk's
  // user.deleted webhook (convex/clerk/); userId is absent when no account belongs to that
  // Clerk user (they never signed in to Poindexter).
  deletionRequests: defineTable({
    userId: v.optional(v.id("users")),
    clerkUserId: v.string(),
    requestedAt: v.number(),
    source: v.literal("clerk"),
    status: v.literal("requested"),
  })
    // One open request per Clerk user: a second user.deleted finds this row.
    .index("by_clerkUserId", ["clerkUserId"])
    // #13 works through the open requests, oldest first.
    .index("by_status_and_requestedAt", ["status", "requestedAt"]),
};
