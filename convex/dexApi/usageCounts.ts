// The usage page's "Dex API operations" card: the month's operations by kind (mails sent and
// deleted, Signal messages sent, calendar writes), from the same per-model rows as the chart,
// where dexApi/record.ts's events count under `dex:<kind>`.
import { v } from "convex/values";
import { userQuery } from "../functions";
import { monthByDayAndModel, requireMonth } from "../lib/usageTotals";
import { splitOperations } from "../model/dexApi/usage";
import { byModel } from "../model/usage/totals";

export const mine = userQuery({
  args: { month: v.string() },
  returns: v.object({ email_sent: v.number(), email_deleted: v.number(), signal_sent: v.number(), calendar_write: v.number() }),
  handler: async (ctx, { month }) => {
    requireMonth(month);
    return splitOperations(byModel(await monthByDayAndModel(ctx, ctx.user._id, month))).operations;
  },
});
