// The customer's door: "Delete my account" on the Settings page, guarded by typing the account's
// email. The request starts the process at once (access stops within the same transaction's
// follow-up run); the page signs the person out.
import { v } from "convex/values";
import { userMutation, userQuery } from "../functions";
import { fail } from "../lib/errors";
import { actorOf } from "../lib/audit";
import { confirmationMatches } from "../model/privacy/deletion";
import { requestDeletion } from "./process";
import { deletionView, deletionViewValidator } from "./views";

export const deleteMine = userMutation({
  args: { confirmEmail: v.string() },
  returns: v.object({ requestId: v.id("deletionRequests"), existing: v.boolean() }),
  handler: async (ctx, { confirmEmail }) => {
    if (!confirmationMatches(confirmEmail, ctx.user.email)) {
      fail("INVALID_ARGUMENT", "Type your account's email address exactly to confirm the deletion.");
    }
    if (ctx.user.role !== "user") {
      fail("FORBIDDEN", "Staff accounts are deleted by an admin from the support console, after the role is removed.");
    }
    return await requestDeletion(ctx, { userId: ctx.user._id, source: "user", requestedBy: "self" }, actorOf(ctx.user));
  },
});

/** The caller's open deletion request, if any (the page shows its progress until sign-out). */
export const mine = userQuery({
  args: {},
  returns: v.union(deletionViewValidator, v.null()),
  handler: async (ctx) => {
    const rows = await ctx.db.query("deletionRequests").withIndex("by_userId", (q) => q.eq("userId", ctx.user._id)).take(10);
    const open = rows.find((r) => r.status !== "done");
    return open === undefined ? null : deletionView(open);
  },
});
