// What the erase step does to each table, in order, as data. Each entry names an index and the
// values to look up in it (the person's user id, email, phone numbers, the ids of their
// identities, keys and grants), and what happens to each row found:
//   delete       the row is personal (or only means something for the person): gone.
//   scrubAudit   the audit trail keeps the action and time, under the tombstone: user ids become
//                the tombstone id, the person's strings leave actorLabel, reason and metadata.
//   rekey        aggregated records (usage rollups, overage cursors, refunds) move to the
//                tombstone; a text field that names the person (a refund's reason) is replaced.
//   rekeyBalance the monthly balance moves too, without its live holds and rate buckets.
//   rekeyInvoice invoices move to the tombstone and lose the hosted URL (the provider's page shows
//                the customer's name and address); amount, number and period stay for the books.
//   deleteIfMentions  rows of a shared table (support alerts) whose text names the person.
// Order matters: audit rows are scrubbed while the identities, keys and grants they point at
// still exist (their ids are read from those tables), tokens go before their grants.
//
// Tables not listed here are handled by `planFor`: any other table with an index that starts
// with userId or apiKeyId (tables added after this plan was written: session tokens, per-key
// counters...) has its rows of the person deleted. The deletion test walks every table in the schema afterwards.

export type KeySource = "userId" | "clerkUserId" | "email" | "mailbox" | "phones" | "identityIds" | "apiKeyIds" | "grantIds" | "requestId";
export type EraseAction = "delete" | "scrubAudit" | "rekey" | "rekeyBalance" | "rekeyInvoice" | "deleteIfMentions";

export interface EraseEntry {
  table: string;
  index: string;
  /** A fixed first index field (audit rows: the target type); null stands for an absent field. */
  prefix?: { field: string; value: string | null };
  /** The index field compared with each value of `key`; absent: the index is scanned whole. */
  field?: string;
  key: KeySource;
  action: EraseAction;
  /** Scans only: the document field compared with the values (the index has none for it). */
  filterField?: string;
}

export const ERASE_PLAN: readonly EraseEntry[] = [
  // The audit trail first: about the account, by email (mail delivery before an account
  // existed), the Clerk user, the person's identities and keys, and what they did themselves.
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "user" }, field: "targetId", key: "userId", action: "scrubAudit" },
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "user" }, field: "targetId", key: "email", action: "scrubAudit" },
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "clerkUser" }, field: "targetId", key: "clerkUserId", action: "scrubAudit" },
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "identity" }, field: "targetId", key: "identityIds", action: "scrubAudit" },
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "apiKey" }, field: "targetId", key: "apiKeyIds", action: "scrubAudit" },
  // The deletion request's own rows (support's reason may quote the person).
  { table: "auditLogs", index: "by_targetType_and_targetId", prefix: { field: "targetType", value: "deletionRequest" }, field: "targetId", key: "requestId", action: "scrubAudit" },
  // Support's alerts carry no userId but may name the person in their message (a failed
  // identity step, a welcome mail that could not be sent): those are read whole.
  { table: "alerts", index: "by_userId_and_at", prefix: { field: "userId", value: null }, key: "userId", action: "deleteIfMentions" },
  // Ops incidents about the account (a failed payment, a key's anomaly, a failed identity step)
  // all carry its userId.
  { table: "opsAlerts", index: "by_userId", field: "userId", key: "userId", action: "delete" },
  { table: "oauthTokens", index: "by_grantId_and_expiresAt", field: "grantId", key: "grantIds", action: "delete" },
  { table: "oauthGrants", index: "by_userId_and_revokedAt", field: "userId", key: "userId", action: "delete" },
  // Codes live 60 s and device codes 15 min, and the OAuth sweep purges spent ones: small tables
  // without a userId index, scanned.
  { table: "oauthCodes", index: "by_expiresAt", key: "userId", filterField: "userId", action: "delete" },
  { table: "oauthDeviceCodes", index: "by_expiresAt", key: "userId", filterField: "userId", action: "delete" },
  { table: "oauthRedirectUris", index: "by_userId_and_uri", field: "userId", key: "userId", action: "delete" },
  { table: "oauthPendingConnects", index: "by_userId_and_requestHash", field: "userId", key: "userId", action: "delete" },
  { table: "apiKeys", index: "by_userId", field: "userId", key: "userId", action: "delete" },
  // SMS to the person's numbers, whether or not the row was matched to the account.
  { table: "incomingSms", index: "by_to_and_receivedAt", field: "to", key: "phones", action: "delete" },
  { table: "incomingSms", index: "by_userId_and_receivedAt", field: "userId", key: "userId", action: "delete" },
  { table: "signalMessages", index: "by_userId_and_receivedAt", field: "userId", key: "userId", action: "delete" },
  { table: "identities", index: "by_userId", field: "userId", key: "userId", action: "delete" },
  // Signup attempts by mailbox too: refused attempts before the account existed have no userId.
  { table: "signupAttempts", index: "by_mailbox_and_at", field: "mailbox", key: "mailbox", action: "delete" },
  { table: "signupAttempts", index: "by_userId_and_at", field: "userId", key: "userId", action: "delete" },
  { table: "emailOutbox", index: "by_userId_and_queuedAt", field: "userId", key: "userId", action: "delete" },
  { table: "alerts", index: "by_userId_and_at", field: "userId", key: "userId", action: "delete" },
  // Webhook payloads name the customer (ids, email hints): the invoice keeps the billing record.
  { table: "webhookEvents", index: "by_userId_and_receivedAt", field: "userId", key: "userId", action: "delete" },
  { table: "billingCustomers", index: "by_userId_and_provider", field: "userId", key: "userId", action: "delete" },
  { table: "subscriptions", index: "by_userId", field: "userId", key: "userId", action: "delete" },
  { table: "deprovisionRequests", index: "by_userId", field: "userId", key: "userId", action: "delete" },
  { table: "overageOutbox", index: "by_userId_and_month", field: "userId", key: "userId", action: "delete" },
  { table: "overageCursors", index: "by_userId_and_month", field: "userId", key: "userId", action: "rekey" },
  { table: "overageReconciliations", index: "by_userId_and_month", field: "userId", key: "userId", action: "rekey" },
  // Raw events are per request (instance, key, request id): gone; the rollups stay.
  { table: "usageEvents", index: "by_userId_and_at", field: "userId", key: "userId", action: "delete" },
  { table: "usageDaily", index: "by_userId_and_day_and_model", field: "userId", key: "userId", action: "rekey" },
  { table: "usageMonthly", index: "by_userId_and_month", field: "userId", key: "userId", action: "rekeyBalance" },
  { table: "invoices", index: "by_userId_and_createdAt", field: "userId", key: "userId", action: "rekeyInvoice" },
  // Refunds of those invoices are part of the same books.
  { table: "invoiceRefunds", index: "by_userId_and_requestedAt", field: "userId", key: "userId", action: "rekey" },
];

/**
 * Tables the plan leaves alone on purpose: users and deletionRequests are the finalize step's;
 * the others hold no personal data (breaker states, the rollup's cursor).
 */
export const UNTOUCHED_TABLES: readonly string[] = ["users", "deletionRequests", "providerBreakers", "rollupState"];

export type SchemaIndexes = Record<string, Array<{ name: string; fields: string[] }>>;

/** The first index of a table whose first field is `field`. */
function indexStartingWith(indexes: Array<{ name: string; fields: string[] }>, field: string) {
  return indexes.find((i) => i.fields[0] === field);
}

/**
 * The plan for a schema: the ERASE_PLAN entries whose table and index exist, then, for every
 * table the plan does not name, a deletion of the person's rows through an index that starts
 * with userId, else one that starts with apiKeyId (per-key counters and sightings).
 */
export function planFor(schemaIndexes: SchemaIndexes): EraseEntry[] {
  const present = ERASE_PLAN.filter((e) => schemaIndexes[e.table]?.some((i) => i.name === e.index));
  const named = new Set([...present.map((e) => e.table), ...UNTOUCHED_TABLES]);
  const extra: EraseEntry[] = [];
  for (const table of Object.keys(schemaIndexes).sort()) {
    if (named.has(table)) continue;
    const byUser = indexStartingWith(schemaIndexes[table], "userId");
    const byKey = indexStartingWith(schemaIndexes[table], "apiKeyId");
    if (byUser !== undefined) extra.push({ table, index: byUser.name, field: "userId", key: "userId", action: "delete" });
    else if (byKey !== undefined) extra.push({ table, index: byKey.name, field: "apiKeyId", key: "apiKeyIds", action: "delete" });
  }
  // Per-key rows go before the keys themselves (their ids are read from apiKeys).
  const found = present.findIndex((e) => e.table === "apiKeys");
  const keysAt = found < 0 ? present.length : found;
  return [...present.slice(0, keysAt), ...extra.filter((e) => e.key === "apiKeyIds"), ...present.slice(keysAt), ...extra.filter((e) => e.key !== "apiKeyIds")];
}

/** Tables of a schema that neither the plan nor a userId index covers (the test lists them). */
export function uncoveredTables(schemaIndexes: SchemaIndexes): string[] {
  const covered = new Set([...planFor(schemaIndexes).map((e) => e.table), ...UNTOUCHED_TABLES]);
  return Object.keys(schemaIndexes).filter((t) => !covered.has(t)).sort();
}

/** Everything that identifies the person, as the erase step looks for it. */
export interface Subject {
  /** The deletion request itself (its audit rows are scrubbed too). */
  requestId: string | null;
  userId: string | null;
  clerkUserId: string | null;
  email: string | null;
  mailbox: string | null;
  name: string | null;
  phones: string[];
  workspaceEmails: string[];
  identityIds: string[];
  apiKeyIds: string[];
  grantIds: string[];
}

export function valuesOf(subject: Subject, key: KeySource): string[] {
  switch (key) {
    case "requestId":
    case "userId":
    case "clerkUserId":
    case "email":
    case "mailbox": {
      const value = subject[key];
      return value === null ? [] : [value];
    }
    default:
      return subject[key];
  }
}

/** The strings whose presence in a stored value means it is about the person (lower case). */
export function personalStrings(subject: Subject): string[] {
  const all = [
    subject.userId,
    subject.clerkUserId,
    subject.email,
    subject.mailbox,
    subject.name,
    ...subject.phones,
    ...subject.workspaceEmails,
  ];
  // Very short strings (a one-letter name) would match everything; ids and addresses never are.
  return [...new Set(all.filter((s): s is string => s !== null && s.trim().length >= 3).map((s) => s.trim().toLowerCase()))];
}

export function mentions(value: unknown, strings: readonly string[]): boolean {
  if (value === undefined || value === null) return false;
  const text = (typeof value === "string" ? value : JSON.stringify(value)).toLowerCase();
  return strings.some((s) => text.includes(s));
}

export type AuditMetadata = Record<string, string | number | boolean | null>;

export interface AuditFields {
  actorId?: string;
  actorLabel: string;
  targetType: string;
  targetId: string;
  reason?: string;
  metadata?: AuditMetadata;
}

/** The label audit rows show for an actor or target that was the deleted person. */
export const DELETED_LABEL = "deleted account";

/**
 * An audit row with the person taken out: their user id (as actor, target or a metadata value)
 * becomes the tombstone, a target named by their email or Clerk id becomes the tombstone, and any
 * other text that names them (actor label, reason, metadata values) is replaced or dropped. The
 * action, time and every other field stay. Pure and idempotent.
 */
export function scrubAudit(row: AuditFields, subject: Subject, tombstoneId: string): AuditFields {
  const strings = personalStrings(subject);
  const isPerson = (s: string | undefined) => s !== undefined && (s === subject.userId || s === subject.clerkUserId || (subject.email !== null && s.toLowerCase() === subject.email.toLowerCase()));
  const personTarget = (row.targetType === "user" || row.targetType === "clerkUser") && isPerson(row.targetId);
  let metadata: AuditMetadata | undefined;
  if (row.metadata !== undefined) {
    metadata = {};
    for (const [k, value] of Object.entries(row.metadata)) {
      if (typeof value === "string" && value === subject.userId) metadata[k] = tombstoneId;
      else if (!mentions(value, strings)) metadata[k] = value;
    }
  }
  return {
    actorId: row.actorId !== undefined && row.actorId === subject.userId ? tombstoneId : row.actorId,
    actorLabel: mentions(row.actorLabel, strings) ? DELETED_LABEL : row.actorLabel,
    targetType: personTarget ? "user" : row.targetType,
    targetId: personTarget ? tombstoneId : row.targetId,
    reason: row.reason !== undefined && mentions(row.reason, strings) ? undefined : row.reason,
    metadata,
  };
}

/** What replaces a kept record's text field that named the person. */
export const REMOVED_TEXT = "(removed: it named the person)";

/** The top-level text fields of a kept row that name the person, each replaced by REMOVED_TEXT. */
export function scrubbedText(doc: Record<string, unknown>, strings: readonly string[]): Record<string, string> {
  const patch: Record<string, string> = {};
  for (const [k, value] of Object.entries(doc)) {
    if (k.startsWith("_") || k === "userId" || typeof value !== "string") continue;
    if (mentions(value, strings)) patch[k] = REMOVED_TEXT;
  }
  return patch;
}
