// "Manage billing": a provider portal session made on the click; its URL is returned to the
// browser only (portal links are short-lived and grant access to the customer's billing).
import { v } from "convex/values";
import { userAction } from "../functions";
import { billingProviderValidator } from "../schema/validators";
import { openPortal } from "./sessions";

export const open = userAction({
  args: {},
  returns: v.object({ url: v.string(), provider: billingProviderValidator }),
  handler: async (ctx) => await openPortal(ctx, ctx.user._id),
});
