// What the Dex API's handlers read: the caller's account (for an OAuth token, whose check
// returns only the user), the identity's facts in one query, and pages of the stored Signal
// messages and SMS. The identity's own rules decide every fact (identity/views.ts factsOf).
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internalQuery } from "../functions";
import { shownIdentity } from "../identity/lifecycle";
import { factsOf, myIdentityOf, overallStatusValidator } from "../identity/views";
import schema from "../schema";
import { identityPhaseValidator, signalStatusValidator } from "../schema/identity";

const users = schema.tables.users.validator.fields;

export const account = internalQuery({
  args: { userId: v.id("users") },
  returns: v.union(v.null(), v.object({ plan: users.plan, state: users.state })),
  handler: async (ctx, { userId }) => {
    const user = await ctx.db.get("users", userId);
    return user === null ? null : { plan: user.plan, state: user.state };
  },
});

export const identityFactsValidator = v.object({
  identityId: v.id("identities"),
  phase: identityPhaseValidator,
  status: overallStatusValidator,
  emailAddress: v.union(v.string(), v.null()),
  mailboxReady: v.boolean(),
  phoneNumber: v.union(v.string(), v.null()),
  signalStatus: signalStatusValidator,
});

/** The facts an operation checks before calling a provider; null: the account has no identity. */
export const identityFacts = internalQuery({
  args: { userId: v.id("users") },
  returns: v.union(v.null(), identityFactsValidator),
  handler: async (ctx, { userId }) => {
    const row = await shownIdentity(ctx, userId);
    if (row === null) return null;
    const facts = factsOf(row);
    return {
      identityId: row._id,
      phase: row.phase,
      status: myIdentityOf(row).status,
      emailAddress: facts.emailAddress,
      mailboxReady: facts.mailboxReady,
      phoneNumber: facts.phoneNumber,
      signalStatus: row.signalStatus,
    };
  },
});

const signalMessageValidator = v.object({ id: v.id("signalMessages"), source: v.string(), message: v.string(), sentAt: v.number(), receivedAt: v.number() });

/** The account's received Signal messages, newest first (kept 30 days by the identity's retention). */
export const signalMessagesPage = internalQuery({
  args: { userId: v.id("users"), paginationOpts: paginationOptsValidator },
  returns: v.object({ page: v.array(signalMessageValidator), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, { userId, paginationOpts }) => {
    const result = await ctx.db
      .query("signalMessages")
      .withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId))
      .order("desc")
      .paginate(paginationOpts);
    return {
      page: result.page.map((m) => ({ id: m._id, source: m.source, message: m.message, sentAt: m.sentAt, receivedAt: m.receivedAt })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});

const smsValidator = v.object({ id: v.id("incomingSms"), from: v.string(), to: v.string(), text: v.string(), receivedAt: v.number() });

/** SMS received on the account's number (the webhook stores them with the owner), newest first. */
export const smsPage = internalQuery({
  args: { userId: v.id("users"), paginationOpts: paginationOptsValidator },
  returns: v.object({ page: v.array(smsValidator), isDone: v.boolean(), continueCursor: v.string() }),
  handler: async (ctx, { userId, paginationOpts }) => {
    const result = await ctx.db
      .query("incomingSms")
      .withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId))
      .order("desc")
      .paginate(paginationOpts);
    return {
      page: result.page.map((m) => ({ id: m._id, from: m.from, to: m.to, text: m.text, receivedAt: m.receivedAt })),
      isDone: result.isDone,
      continueCursor: result.continueCursor,
    };
  },
});
