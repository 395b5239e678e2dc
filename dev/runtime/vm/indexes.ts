// Sorted indexes for convex-test's DatabaseFake. Upstream answers every
// `withIndex` (and every table scan) by walking all documents of the component and
// sorting the matches, which is O(documents) per query. Here each (table, index)
// keeps its committed entries sorted by the index fields + _creationTime + _id, so a
// range is a binary search plus a walk over the matching entries, and `.take(n)`
// without a filter stops after n entries.
// Pending writes of the running transaction are merged in on top, so a mutation
// still reads its own writes exactly as upstream does.
import { compareValues, jsonToConvex } from "convex/values";
import * as ct from "convex-test";

const internals = ct as any;
const DatabaseFake = internals.__DatabaseFake;
const validateIndexRangeExpression = internals.__validateIndexRangeExpression;
const evaluateRangeFilter = internals.__evaluateRangeFilter;
const evaluateFieldPath = internals.__evaluateFieldPath;
const evaluateQueryValue = internals.__evaluateQueryValue;
const evaluateFilter = internals.__evaluateFilter;
const tableNameFromId: (id: string) => string | null = internals.__tableNameFromId;

interface Entry {
  key: unknown[];
  id: string;
}

interface RangeExpr {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: unknown;
}

/**
 * compareValues with fast paths for the common index key types. Strings compare by
 * UTF-8 bytes in Convex; UTF-16 code units agree with that below U+D800, so only
 * strings that differ at a higher code unit take the general path.
 */
export function compareKey(a: unknown, b: unknown): number {
  if (a === b && typeof a !== "number") return 0;
  if (typeof a === "number" && typeof b === "number" && a === a && b === b && a !== 0 && b !== 0) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const ca = a.charCodeAt(i);
      const cb = b.charCodeAt(i);
      if (ca === cb) continue;
      if (ca < 0xd800 && cb < 0xd800) return ca < cb ? -1 : 1;
      return compareValues(a, b);
    }
    return a.length < b.length ? -1 : 1;
  }
  return compareValues(a as any, b as any);
}

function compareKeys(a: unknown[], b: unknown[]): number {
  for (let i = 0; i < a.length; i++) {
    const c = compareKey(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}

export class SortedIndex {
  entries: Entry[] = [];
  /** Fields read straight off the document (no dotted path). */
  private readonly topLevel: boolean[];
  constructor(readonly fields: string[]) {
    this.topLevel = fields.map((f) => !f.includes("."));
  }

  /**
   * The entry key of a document: what evaluateFieldPath gives for each field. A top-level
   * field holding a primitive is that value as is (evaluateFieldPath would return it
   * unchanged); nested paths, objects and arrays (which may hold a pending commit timestamp)
   * go through evaluateFieldPath.
   */
  keyOf(doc: any): unknown[] {
    const n = this.fields.length;
    const key = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      const f = this.fields[i];
      if (this.topLevel[i]) {
        const v = doc[f];
        if (v === null || typeof v !== "object") {
          key[i] = v;
          continue;
        }
      }
      key[i] = evaluateFieldPath(f, doc);
    }
    return key;
  }

  private position(key: unknown[]): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareKeys(this.entries[mid].key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  insert(doc: any, key: unknown[] = this.keyOf(doc)) {
    this.entries.splice(this.position(key), 0, { key, id: doc._id });
  }

  remove(doc: any, key: unknown[] = this.keyOf(doc)) {
    const at = this.position(key);
    // Keys end with _id, so the entry is exactly at the insertion point.
    if (at < this.entries.length && this.entries[at].id === doc._id) this.entries.splice(at, 1);
  }

  /**
   * A committed change of one document: `old` and `now` are its versions before and after
   * (null when absent). A write that leaves this index's key as it was (most patches: the
   * indexed fields and _creationTime, _id unchanged) leaves the entry where it is.
   */
  replace(old: any, now: any) {
    const oldKey = old === null ? null : this.keyOf(old);
    const newKey = now === null ? null : this.keyOf(now);
    if (oldKey !== null && newKey !== null && compareKeys(oldKey, newKey) === 0) return;
    if (oldKey !== null) this.remove(old, oldKey);
    if (newKey !== null) this.insert(now, newKey);
  }

  /** First entry position not before the range's lower bound. */
  lowerBound(range: RangeExpr[], values: unknown[]): number {
    // Only the equality prefix and a gt/gte decide the lower bound; lt/lte never move it.
    const before = (e: Entry) => {
      for (let i = 0; i < range.length; i++) {
        const r = range[i];
        const c = compareKey(e.key[this.fields.indexOf(r.fieldPath)], values[i]);
        if (r.type === "Eq") {
          if (c !== 0) return c < 0;
        } else if (r.type === "Gte") {
          return c < 0;
        } else if (r.type === "Gt") {
          return c <= 0;
        }
      }
      return false;
    };
    return this.search(before);
  }

  /**
   * First entry position past the range's upper bound (the range is [lowerBound, upperBound)),
   * found by binary search like the lower bound, so a newest-first read does not walk the
   * range to find where it ends.
   */
  upperBound(range: RangeExpr[], values: unknown[]): number {
    // An entry is within the upper bound while its equality prefix is not greater and it
    // passes lt/lte; a gt/gte (the other end) is skipped, as a following lt/lte on the same
    // field still decides.
    const within = (e: Entry) => {
      for (let i = 0; i < range.length; i++) {
        const r = range[i];
        if (r.type === "Gt" || r.type === "Gte") continue;
        const c = compareKey(e.key[this.fields.indexOf(r.fieldPath)], values[i]);
        if (r.type === "Eq") {
          if (c !== 0) return c < 0;
        } else if (r.type === "Lte") {
          return c <= 0;
        } else {
          return c < 0;
        }
      }
      return true;
    };
    return this.search(within);
  }

  /** First position whose key is greater than `key` (a page cursor: index fields, _creationTime, _id). */
  firstAfter(key: unknown[]): number {
    return this.search((e) => compareKeys(e.key, key) <= 0);
  }

  /** First position whose key is not less than `key`. */
  firstNotBefore(key: unknown[]): number {
    return this.search((e) => compareKeys(e.key, key) < 0);
  }

  /** First position whose entry fails `pred` (true for a prefix of the entries, then false). */
  private search(pred: (e: Entry) => boolean): number {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (pred(this.entries[mid])) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

interface IndexState {
  indexes: Map<string, SortedIndex>;
  /** The built indexes of each table, for a commit to update (only those of its tables). */
  byTable: Map<string, SortedIndex[]>;
  tables: Map<string, Set<string>>;
  /** Each `table.index`'s key fields, resolved from the schema once. */
  fields: Map<string, string[]>;
}

const stateOf = new WeakMap<object, IndexState>();

function state(db: any): IndexState {
  let s = stateOf.get(db);
  if (!s) {
    s = { indexes: new Map(), byTable: new Map(), tables: new Map(), fields: new Map() };
    for (const id of Object.keys(db._documents)) {
      const table = tableNameFromId(id);
      if (table === null) continue;
      let set = s.tables.get(table);
      if (!set) s.tables.set(table, (set = new Set()));
      set.add(id);
    }
    stateOf.set(db, s);
  }
  return s;
}

function indexFields(db: any, tableName: string, indexName: string): string[] {
  const s = state(db);
  const name = `${tableName}.${indexName}`;
  let fields = s.fields.get(name);
  if (fields === undefined) s.fields.set(name, (fields = schemaIndexFields(db, tableName, indexName)));
  return fields;
}

function schemaIndexFields(db: any, tableName: string, indexName: string): string[] {
  if (indexName === "by_creation_time") return ["_creationTime", "_id"];
  if (indexName === "by_id") return ["_id"];
  const indexes = db._schema?.tables.get(tableName)?.indexes;
  const index = indexes?.find(({ indexDescriptor }: any) => indexDescriptor === indexName);
  if (index === undefined) {
    throw new Error(
      `Cannot use index "${indexName}" for table "${tableName}" because it is not declared in the schema.`,
    );
  }
  return index.fields.concat(["_creationTime", "_id"]);
}

function getIndex(db: any, tableName: string, indexName: string, fields: string[]): SortedIndex {
  const s = state(db);
  const name = `${tableName}.${indexName}`;
  let index = s.indexes.get(name);
  if (!index) {
    index = new SortedIndex(fields);
    const ids = s.tables.get(tableName) ?? new Set<string>();
    const docs = [...ids].map((id) => db._documents[id]);
    const built = docs.map((d) => ({ key: index!.keyOf(d), id: d._id as string }));
    built.sort((a, b) => compareKeys(a.key, b.key));
    index.entries = built;
    s.indexes.set(name, index);
    let ofTable = s.byTable.get(tableName);
    if (!ofTable) s.byTable.set(tableName, (ofTable = []));
    ofTable.push(index);
  }
  return index;
}

/** Ids of `tableName` touched by the running transaction's pending writes. */
function pendingIds(db: any, tableName: string): Set<string> {
  const ids = new Set<string>();
  for (const layer of db._writes as Record<string, unknown>[]) {
    for (const id of Object.keys(layer)) if (tableNameFromId(id) === tableName) ids.add(id);
  }
  return ids;
}

/**
 * The part of a range one `paginate` call can read (see `windowOf`): entries after the cursor
 * (in the query's order), at most `count` of them, ending with the first at or past `until`.
 */
interface Window {
  after: unknown[] | null;
  count: number | null;
  until: unknown[] | null;
}

function resolveIndexed(db: any, query: any, window: Window | null = null) {
  const source = query.source;
  let tableName: string;
  let indexName: string;
  let range: RangeExpr[];
  if (source.type === "FullTableScan") {
    tableName = source.tableName;
    indexName = "by_creation_time";
    range = [];
  } else {
    [tableName, indexName] = source.indexName.split(".");
    range = source.range;
  }
  const order: "asc" | "desc" = source.order ?? "asc";
  const fields = indexFields(db, tableName, indexName);
  if (source.type === "IndexRange") validateIndexRangeExpression(source, fields);
  const fieldPathsToSortBy = source.type === "FullTableScan" ? ["_creationTime"] : fields;

  const filters = query.operators.filter((op: any) => "filter" in op).map((op: any) => op.filter);
  const limitOp = query.operators.find((op: any) => "limit" in op);
  const limit: number | null = limitOp?.limit ?? null;

  const index = getIndex(db, tableName, indexName, fields);
  const values = range.map((r) => evaluateQueryValue(r.value));
  const pending = pendingIds(db, tableName);
  const matches = (doc: any) => range.every((r) => evaluateRangeFilter(doc, r));

  // Committed entries in the range: both ends by binary search (compareKey orders exactly as
  // convex-test's range filters compare), then only the entries read are visited, from the
  // lower end for asc and from the upper end for desc. A page starts after its cursor, found by
  // binary search too.
  let start = index.lowerBound(range, values);
  let end = index.upperBound(range, values);
  const after = window?.after ?? null;
  if (after !== null) {
    if (order === "asc") start = Math.max(start, index.firstAfter(after));
    else end = Math.min(end, index.firstNotBefore(after));
  }
  const mult = order === "asc" ? 1 : -1;
  const until = window?.until ?? null;
  // `past`: the entry is at or past the page's end cursor (it is read, then the page stops).
  const past = (key: unknown[]) => until !== null && compareKeys(key, until) * mult >= 0;
  const committed: any[] = [];
  // With a limit and no filter the first `limit` committed entries not overwritten by the
  // transaction are all that can reach the result, pending writes merged in or not.
  let stopAfter = filters.length === 0 && limit !== null ? limit : Infinity;
  if (window?.count != null) stopAfter = Math.min(stopAfter, window.count);
  for (let n = 0; n < end - start && committed.length < stopAfter; n++) {
    const entry = index.entries[order === "asc" ? start + n : end - 1 - n];
    const doc = db._documents[entry.id];
    if (!pending.has(doc._id)) committed.push(doc);
    if (past(entry.key)) break;
  }
  let sortedDocs = committed;
  if (pending.size > 0) {
    for (const id of pending) {
      const doc = db.get(tableName, id);
      if (doc === null || !matches(doc)) continue;
      if (after !== null && compareKeys(index.keyOf(doc), after) * mult <= 0) continue;
      sortedDocs.push(doc);
    }
    let keyed = sortedDocs.map((doc) => ({ doc, key: index.keyOf(doc) })).sort((a, b) => compareKeys(a.key, b.key) * mult);
    if (window !== null) {
      if (window.count !== null) keyed = keyed.slice(0, window.count);
      const stop = keyed.findIndex((x) => past(x.key));
      if (stop >= 0) keyed = keyed.slice(0, stop + 1);
    }
    sortedDocs = keyed.map((x) => x.doc);
  }
  const filterFn = (doc: any) => filters.every((f: any) => evaluateFilter(doc, f));
  return { sortedDocs, filterFn, limit, fieldPathsToSortBy, order };
}

/** A page cursor's keys, as convex-test's paginate parses them. */
function cursorKeys(cursor: string): unknown[] {
  return (JSON.parse(cursor) as (string | null)[]).map((k) => (k === null ? undefined : jsonToConvex(JSON.parse(k))));
}

/**
 * What convex-test's paginate can read of the range, given its arguments: it skips every entry
 * up to the cursor without counting it; without an end cursor or filter it stops after
 * `pageSize` entries, looking at one more to know whether the page is the last; with an end
 * cursor it stops at the first entry at or past it; with `maximumRowsRead` after that many.
 */
function windowOf(args: any): Window | null {
  const { query, cursor, endCursor, pageSize, maximumRowsRead } = args;
  const filtered = query.operators.some((op: any) => "filter" in op);
  if (cursor === "_end_cursor") return { after: null, count: 0, until: null };
  const after = cursor ? cursorKeys(cursor) : null;
  const until = endCursor && endCursor !== "_end_cursor" ? cursorKeys(endCursor) : null;
  let count: number | null = maximumRowsRead ? maximumRowsRead : null;
  if (!endCursor && !filtered && typeof pageSize === "number" && pageSize > 0) {
    count = count === null ? pageSize + 1 : Math.min(count, pageSize + 1);
  }
  return { after, count, until };
}

/** Installs the sorted indexes into every DatabaseFake (call once, before convexTest()). */
export function installIndexes() {
  const proto = DatabaseFake.prototype;
  const originalResolve = proto._resolveQuerySource;
  proto._resolveQuerySource = function (this: any, query: any) {
    if (query.source.type === "Search") return originalResolve.call(this, query);
    return resolveIndexed(this, query);
  };

  // convex-test's paginate walks the whole range from its start, skipping entries up to the
  // cursor, so a later page of a long history (or any page, newest first) cost the whole range.
  // Here it gets only the window of the range its walk can reach (windowOf); its own logic
  // (cursors, end cursors, read limits, split cursors) runs unchanged on that window.
  const originalPaginate = proto.paginate;
  proto.paginate = function (this: any, args: any) {
    if (args.query.source.type === "Search") return originalPaginate.call(this, args);
    const window = windowOf(args);
    // paginate is synchronous: the own property is gone before anything else can query.
    this._resolveQuerySource = (query: any) => resolveIndexed(this, query, window);
    try {
      return originalPaginate.call(this, args);
    } finally {
      delete this._resolveQuerySource;
    }
  };

  proto._iterateDocs = function (this: any, tableName: string, callback: (doc: any) => void) {
    const ids = new Set(state(this).tables.get(tableName) ?? []);
    for (const id of pendingIds(this, tableName)) ids.add(id);
    for (const id of ids) {
      const doc = this.get(tableName, id);
      if (doc !== null) callback(doc);
    }
  };

  const originalCommit = proto.commit;
  proto.commit = function (this: any, commitTs: unknown = null) {
    const topLevel = this._writes.length === 1;
    const writes: Record<string, unknown> = topLevel ? this._writes[0] : {};
    const before = topLevel
      ? Object.fromEntries(Object.keys(writes).map((id) => [id, this._documents[id] ?? null]))
      : {};
    originalCommit.call(this, commitTs);
    if (!topLevel) return;
    applyCommitted(this, before);
  };
}

/** Brings the indexes in line with documents that changed from `before`. */
export function applyCommitted(db: any, before: Record<string, any>) {
  const s = stateOf.get(db);
  if (!s) return;
  for (const [id, old] of Object.entries(before)) {
    const table = tableNameFromId(id);
    if (table === null) continue;
    const now = db._documents[id] ?? null;
    const indexes = s.byTable.get(table);
    if (indexes !== undefined) for (const index of indexes) index.replace(old, now);
    let set = s.tables.get(table);
    if (!set) s.tables.set(table, (set = new Set()));
    if (now === null) set.delete(id);
    else set.add(id);
  }
}

/** Forgets all index state of a database (after its documents were replaced wholesale). */
export function resetIndexes(db: any) {
  stateOf.delete(db);
}
