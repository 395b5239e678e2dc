// Audit log search for the console: by target id (any type), actor, action and time range,
// newest first, a page at a time. The most selective condition picks the index
// (model/admin/search.ts auditIndexFor) and the time range bounds it; any other condition is
// checked on that range only, never over the whole table.
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { supportQuery } from "../functions";
import { fail } from "../lib/errors";
import { auditIndexFor, checkTimeRange } from "../model/admin/search";
import schema from "../schema";

const audit = schema.tables.auditLogs.validator.fields;

export const auditRowValidator = v.object({
  _id: v.id("auditLogs"),
  at: audit.at,
  actorId: audit.actorId,
  actorLabel: audit.actorLabel,
  action: audit.action,
  targetType: audit.targetType,
  targetId: audit.targetId,
  reason: audit.reason,
  metadata: audit.metadata,
});

const MAX_TERM = 200;

export const search = supportQuery({
  args: {
    targetId: v.optional(v.string()),
    actor: v.optional(v.string()),
    action: v.optional(v.string()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    paginationOpts: paginationOptsValidator,
  },
  returns: paginationResultValidator(auditRowValidator),
  handler: async (ctx, args) => {
    const targetId = args.targetId?.trim() || undefined;
    const actor = args.actor?.trim() || undefined;
    const action = args.action?.trim() || undefined;
    for (const term of [targetId, actor, action]) {
      if (term !== undefined && term.length > MAX_TERM) fail("INVALID_ARGUMENT", `A search term is at most ${MAX_TERM} characters.`);
    }
    const rangeError = checkTimeRange(args.from, args.to);
    if (rangeError !== null) fail("INVALID_ARGUMENT", rangeError);
    const { from, to } = args;
    const logs = ctx.db.query("auditLogs");
    // `at` is the last field of every index used, so the time range narrows the index range
    // (an open end is the whole line: times are epoch ms, never negative).
    const lo = from ?? 0;
    const hi = to ?? Number.MAX_SAFE_INTEGER;
    let query;
    switch (auditIndexFor({ targetId, actor, action })) {
      case "by_targetId_and_at":
        query = logs.withIndex("by_targetId_and_at", (q) => q.eq("targetId", targetId!).gte("at", lo).lte("at", hi));
        break;
      case "by_actorLabel_and_at":
        query = logs.withIndex("by_actorLabel_and_at", (q) => q.eq("actorLabel", actor!).gte("at", lo).lte("at", hi));
        break;
      case "by_action_and_at":
        query = logs.withIndex("by_action_and_at", (q) => q.eq("action", action!).gte("at", lo).lte("at", hi));
        break;
      case "by_at":
        query = logs.withIndex("by_at", (q) => q.gte("at", lo).lte("at", hi));
        break;
    }
    // Conditions the chosen index does not cover, on its (already narrowed) range: never a scan
    // of the table, and a combination's rows are a subset of the most selective term's.
    // eslint-disable-next-line @convex-dev/no-filter-in-query
    const filtered = query.order("desc").filter((q) =>
      q.and(
        targetId === undefined ? true : q.eq(q.field("targetId"), targetId),
        actor === undefined ? true : q.eq(q.field("actorLabel"), actor),
        action === undefined ? true : q.eq(q.field("action"), action),
      ),
    );
    const page = await filtered.paginate(args.paginationOpts);
    return {
      ...page,
      page: page.page.map((a) => ({
        _id: a._id,
        at: a.at,
        actorId: a.actorId,
        actorLabel: a.actorLabel,
        action: a.action,
        targetType: a.targetType,
        targetId: a.targetId,
        reason: a.reason,
        metadata: a.metadata,
      })),
    };
  },
});
