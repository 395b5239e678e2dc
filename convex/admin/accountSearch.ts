// Accounts by state, plan and email prefix, a page at a time, through the one users index the
// filter calls for (model/admin/search.ts): the console's list and GET /v1/admin/users share it.
import type { PaginationOptions, PaginationResult } from "convex/server";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { accountIndexFor, type AccountFilter } from "../model/admin/search";

/** The end of an email-prefix range: every string that starts with the prefix sorts below it. */
const PREFIX_END = "\uffff";

export async function searchAccounts(
  ctx: QueryCtx,
  filter: AccountFilter,
  paginationOpts: PaginationOptions,
): Promise<PaginationResult<Doc<"users">>> {
  const { state, plan, email } = filter;
  const users = ctx.db.query("users");
  switch (accountIndexFor(filter)) {
    case "by_state_and_plan_and_email":
      return await users
        .withIndex("by_state_and_plan_and_email", (q) => {
          const eq = q.eq("state", state!).eq("plan", plan!);
          return email ? eq.gte("email", email).lt("email", email + PREFIX_END) : eq;
        })
        .paginate(paginationOpts);
    case "by_state_and_email":
      return await users
        .withIndex("by_state_and_email", (q) => {
          const eq = q.eq("state", state!);
          return email ? eq.gte("email", email).lt("email", email + PREFIX_END) : eq;
        })
        .paginate(paginationOpts);
    case "by_plan_and_email":
      return await users
        .withIndex("by_plan_and_email", (q) => {
          const eq = q.eq("plan", plan!);
          return email ? eq.gte("email", email).lt("email", email + PREFIX_END) : eq;
        })
        .paginate(paginationOpts);
    case "by_email":
      return await users
        .withIndex("by_email", (q) => q.gte("email", email!).lt("email", email! + PREFIX_END))
        .paginate(paginationOpts);
    case "by_lastSeenAt":
      return await users.withIndex("by_lastSeenAt").order("desc").paginate(paginationOpts);
  }
}
