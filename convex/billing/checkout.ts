// The Billing page's "choose a plan": a hosted checkout URL the SPA redirects to. The account
// changes only when the provider's webhook lands (webhooks.ts), which the page watches live.
import { v } from "convex/values";
import { userAction } from "../functions";
import { billingProviderValidator } from "../schema/validators";
import { requirePaidPlan, startCheckout } from "./sessions";

export const start = userAction({
  // A string, checked by requirePaidPlan, so a wrong plan gets a message that says what to send.
  args: { plan: v.string() },
  returns: v.object({ url: v.string(), provider: billingProviderValidator }),
  handler: async (ctx, { plan }) => await startCheckout(ctx, ctx.user._id, requirePaidPlan(plan)),
});
