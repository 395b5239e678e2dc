// The signed-in customer's billing, for the Billing page and the dashboard: live through
// useQuery, so a return from checkout shows "waiting for payment confirmation" until the
// webhook lands, then the new plan, without a reload.
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { userQuery } from "../functions";
import { billingSummaryOf, billingSummaryValidator, invoiceView, invoiceViewValidator } from "./view";

export const mine = userQuery({
  args: {},
  returns: billingSummaryValidator,
  handler: async (ctx) => await billingSummaryOf(ctx, ctx.user, Date.now()),
});

/** Billing history, newest first, a page at a time (usePaginatedQuery). */
export const invoices = userQuery({
  args: { paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(invoiceViewValidator),
  handler: async (ctx, { paginationOpts }) => {
    const page = await ctx.db
      .query("invoices")
      .withIndex("by_userId_and_createdAt", (q) => q.eq("userId", ctx.user._id))
      .order("desc")
      .paginate(paginationOpts);
    return { ...page, page: page.page.map(invoiceView) };
  },
});
