// The erase step's work (model/privacy/erasePlan.ts says what happens to each table): one bounded
// batch per call, resumable from the cursor stored on the request, so a deletion of a long
// history never meets Convex's per-mutation limits and a crash loses at most one batch, which
// the next run repeats harmlessly (deleting a deleted row, scrubbing a scrubbed one: no-ops).
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { canonicalMailbox } from "../model/signup/emailIdentity";
import {
  type EraseEntry,
  mentions,
  personalStrings,
  planFor,
  type SchemaIndexes,
  scrubAudit,
  scrubbedText,
  type Subject,
  valuesOf,
} from "../model/privacy/erasePlan";
import schema from "../schema";

export type AnyDoc = Record<string, unknown> & { _id: Id<TableNames> };

/** Rows read per erase batch: far below Convex's per-mutation read and write limits. */
export const ERASE_BATCH = 200;

/** Every table of the deployed schema with its indexes (tables added later included). */
export function schemaIndexes(): SchemaIndexes {
  const out: SchemaIndexes = {};
  for (const [name, table] of Object.entries(schema.tables)) {
    const indexes = (table as unknown as { " indexes"(): Array<{ indexDescriptor: string; fields: string[] }> })[" indexes"]();
    out[name] = indexes.map((i) => ({ name: i.indexDescriptor, fields: i.fields }));
  }
  return out;
}

/**
 * The person's rows of a table through its first index that starts with userId (null when it has
 * none): for tables whose indexes another part of the product owns (credentials, session tokens).
 */
export async function rowsOfUser(ctx: QueryCtx, table: string, userId: Id<"users">, limit: number): Promise<AnyDoc[] | null> {
  const index = schemaIndexes()[table]?.find((i) => i.fields[0] === "userId");
  if (index === undefined) return null;
  const query = ctx.db.query(table as TableNames) as unknown as {
    withIndex(name: string, range: (q: any) => any): { take(n: number): Promise<AnyDoc[]> };
  };
  return await query.withIndex(index.name, (q) => q.eq("userId", userId)).take(limit);
}

/** The erase plan of this deployment's schema. */
export function erasePlan(): EraseEntry[] {
  return planFor(schemaIndexes());
}

function authSubject(user: Doc<"users"> | null): string | null {
  if (user === null) return null;
  const bar = user.tokenIdentifier.indexOf("|");
  return bar < 0 ? null : user.tokenIdentifier.slice(bar + 1);
}

/** What identifies the person, read from their rows (stable across batches: ids sorted). */
export async function subjectOf(ctx: MutationCtx, request: Doc<"deletionRequests">): Promise<Subject> {
  const user = request.userId === undefined ? null : await ctx.db.get("users", request.userId);
  const userId = request.userId ?? null;
  const identities = userId === null ? [] : await ctx.db.query("identities").withIndex("by_userId", (q) => q.eq("userId", userId)).take(100);
  const keys = userId === null ? [] : await ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", userId)).take(500);
  const grants = userId === null ? [] : await ctx.db.query("oauthGrants").withIndex("by_userId_and_revokedAt", (q) => q.eq("userId", userId)).take(500);
  const sorted = (ids: string[]) => [...new Set(ids)].sort();
  return {
    requestId: request._id,
    userId,
    // The auth provider's user id (Clerk's user_...): the Clerk door names it; otherwise it is
    // the subject part of the account's tokenIdentifier ("<issuer>|<subject>").
    clerkUserId: request.clerkUserId ?? authSubject(user),
    email: user?.email ?? null,
    mailbox: user === null ? null : canonicalMailbox(user.email),
    name: user?.name ?? null,
    phones: sorted(identities.flatMap((i) => (i.phoneNumber ? [i.phoneNumber] : []))),
    workspaceEmails: sorted(identities.flatMap((i) => (i.workspaceEmail ? [i.workspaceEmail] : []))),
    identityIds: sorted(identities.map((i) => i._id)),
    apiKeyIds: sorted(keys.map((k) => k._id)),
    grantIds: sorted(grants.map((g) => g._id)),
  };
}

export interface EraseCursor {
  entry: number;
  value: number;
  page: string | null;
  rows: number;
}

export const ERASE_START: EraseCursor = { entry: 0, value: 0, page: null, rows: 0 };


async function handle(ctx: MutationCtx, entry: EraseEntry, doc: AnyDoc, subject: Subject, tombstoneId: Id<"users">, strings: string[]): Promise<boolean> {
  // Table names come from the plan at run time: the typed db API cannot name them statically.
  const db = ctx.db as unknown as {
    delete(table: string, id: Id<TableNames>): Promise<void>;
    patch(table: string, id: Id<TableNames>, value: Record<string, unknown>): Promise<void>;
  };
  switch (entry.action) {
    case "delete":
      await db.delete(entry.table, doc._id);
      return true;
    case "deleteIfMentions":
      if (!mentions(doc, strings)) return false;
      await db.delete(entry.table, doc._id);
      return true;
    case "rekey":
      await db.patch(entry.table, doc._id, { ...scrubbedText(doc, strings), userId: tombstoneId });
      return true;
    case "rekeyBalance":
      // Live holds and rate buckets describe requests in flight: none remain for a deleted account.
      await db.patch(entry.table, doc._id, { userId: tombstoneId, holds: [], holdsExpireAt: undefined, buckets: undefined });
      return true;
    case "rekeyInvoice":
      await db.patch(entry.table, doc._id, { ...scrubbedText(doc, strings), userId: tombstoneId, hostedUrl: undefined });
      return true;
    case "scrubAudit": {
      const row = doc as unknown as Doc<"auditLogs">;
      const clean = scrubAudit(row, subject, tombstoneId);
      await db.patch(entry.table, doc._id, {
        actorId: clean.actorId,
        actorLabel: clean.actorLabel,
        targetType: clean.targetType,
        targetId: clean.targetId,
        reason: clean.reason,
        metadata: clean.metadata,
      });
      return true;
    }
  }
}

/**
 * One batch of the erase step from `cursor`: returns the next cursor, or null when every entry
 * of the plan is through.
 */
export async function eraseBatch(
  ctx: MutationCtx,
  request: Doc<"deletionRequests">,
  tombstoneId: Id<"users">,
  cursor: EraseCursor,
  plan: EraseEntry[] = erasePlan(),
  batch = ERASE_BATCH,
): Promise<EraseCursor | null> {
  const subject = await subjectOf(ctx, request);
  const strings = personalStrings(subject);
  let { entry: at, value, page } = cursor;
  let rows = cursor.rows;
  // Skip entries with nothing to look up (no phone numbers, no Clerk id) without spending a batch.
  while (at < plan.length) {
    const entry = plan[at];
    const values = entry.field === undefined ? (valuesOf(subject, entry.key).length > 0 ? ["scan"] : []) : valuesOf(subject, entry.key);
    if (value >= values.length) {
      at += 1;
      value = 0;
      page = null;
      continue;
    }
    const lookup = values[value];
    const query = (ctx.db.query(entry.table as TableNames) as unknown as {
      withIndex(name: string, range: (q: any) => any): { paginate(o: { numItems: number; cursor: string | null }): Promise<{ page: AnyDoc[]; isDone: boolean; continueCursor: string }> };
    }).withIndex(entry.index, (q) => {
      let r = q;
      if (entry.prefix) r = r.eq(entry.prefix.field, entry.prefix.value ?? undefined);
      if (entry.field !== undefined) r = r.eq(entry.field, lookup);
      return r;
    });
    const result = await query.paginate({ numItems: batch, cursor: page });
    const personValues = entry.filterField === undefined ? null : valuesOf(subject, entry.key);
    for (const doc of result.page) {
      if (personValues !== null && !personValues.includes(String(doc[entry.filterField!]))) continue;
      if (await handle(ctx, entry, doc, subject, tombstoneId, strings)) rows += 1;
    }
    if (result.isDone) return { entry: at, value: value + 1, page: null, rows };
    return { entry: at, value, page: result.continueCursor, rows };
  }
  return null;
}
