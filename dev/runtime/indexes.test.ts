// The sorted indexes must answer exactly what convex-test's scans answer.
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { compareValues, type Value } from "convex/values";
import { createEngine, type CallResult, type HostEngine } from "./engineHost.ts";
import { compareKey, SortedIndex } from "./vm/indexes.ts";

const functionsDir = path.join(import.meta.dirname, "fixtures/convex");
const hooks = { onCommit() {}, onCall() {}, onRead() {}, onWrite() {} };

describe("compareKey", () => {
  it("orders like compareValues, including UTF-8 order and signed zero", () => {
    const pool: Value[] = ["", "a", "b", "ab", "aé", "é", "\uE000", "😀", "\uFFFF", "Z", 0, -0, 1, -1, 1.5, NaN, Infinity, -Infinity, null, true, false, 5n, 2n];
    for (const a of pool) for (const b of pool) expect(Math.sign(compareKey(a, b))).toBe(Math.sign(compareValues(a, b)));
  });
});

describe("SortedIndex.replace", () => {
  const doc = (id: string, userId: string, at: number, creation: number) => ({ _id: id, _creationTime: creation, userId, at });
  const build = () => {
    const index = new SortedIndex(["userId", "at", "_creationTime", "_id"]);
    for (const d of [doc("a", "u1", 5, 1), doc("b", "u1", 7, 2), doc("c", "u2", 1, 3)]) index.insert(d);
    return index;
  };
  const ids = (index: SortedIndex) => index.entries.map((e) => e.id);

  it("keeps an entry whose key did not change, and moves, adds and drops the others", () => {
    const index = build();
    const before = index.entries.slice();
    index.replace(doc("a", "u1", 5, 1), { ...doc("a", "u1", 5, 1), tokens: 9 });
    expect(index.entries).toEqual(before);
    expect(index.entries[0]).toBe(before[0]);
    index.replace(doc("a", "u1", 5, 1), doc("a", "u3", 0, 1));
    expect(ids(index)).toEqual(["b", "c", "a"]);
    index.replace(null, doc("d", "u1", 6, 4));
    expect(ids(index)).toEqual(["d", "b", "c", "a"]);
    index.replace(doc("b", "u1", 7, 2), null);
    expect(ids(index)).toEqual(["d", "c", "a"]);
  });

  it("keys a missing field as undefined, like evaluateFieldPath", () => {
    expect(new SortedIndex(["userId", "_id"]).keyOf({ _id: "y" })).toEqual([undefined, "y"]);
  });
});

describe("range bounds", () => {
  // One user with a long history among a few others: the shape of the dashboard's newest-first
  // reads. Keys are [userId, at, _creationTime, _id] like an index entry.
  const fields = ["userId", "at", "_creationTime", "_id"];
  const index = new SortedIndex(fields);
  const N = 100_000;
  for (let i = 0; i < N; i++) {
    const userId = i % 10 === 0 ? "a" : i % 10 < 9 ? "b" : "c";
    index.entries.push({ key: [userId, Math.floor(i / 3), i, `${String(i).padStart(6, "0")}t`], id: `${i}` });
  }
  index.entries.sort((x, y) => {
    for (let k = 0; k < fields.length; k++) {
      const c = compareValues(x.key[k] as Value, y.key[k] as Value);
      if (c !== 0) return c;
    }
    return 0;
  });
  // Counts the entries the bound searches look at.
  let visited = 0;
  const plain = index.entries;
  index.entries = new Proxy(plain, {
    get(target, prop, receiver) {
      if (typeof prop === "string" && /^\d+$/.test(prop)) visited++;
      return Reflect.get(target, prop, receiver);
    },
  });
  type Expr = { type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte"; fieldPath: string; value: unknown };
  const inRange = (key: unknown[], range: Expr[]) =>
    range.every((r) => {
      const c = compareValues(key[fields.indexOf(r.fieldPath)] as Value, r.value as Value);
      return r.type === "Eq" ? c === 0 : r.type === "Gt" ? c > 0 : r.type === "Gte" ? c >= 0 : r.type === "Lt" ? c < 0 : c <= 0;
    });
  const ranges: Expr[][] = [
    [],
    [{ type: "Eq", fieldPath: "userId", value: "b" }],
    [{ type: "Eq", fieldPath: "userId", value: "a" }],
    [{ type: "Eq", fieldPath: "userId", value: "c" }],
    [{ type: "Eq", fieldPath: "userId", value: "0" }],
    [{ type: "Eq", fieldPath: "userId", value: "z" }],
    [{ type: "Eq", fieldPath: "userId", value: "b" }, { type: "Gte", fieldPath: "at", value: 1000 }],
    [{ type: "Eq", fieldPath: "userId", value: "b" }, { type: "Gt", fieldPath: "at", value: 1000 }, { type: "Lt", fieldPath: "at", value: 2000 }],
    [{ type: "Eq", fieldPath: "userId", value: "b" }, { type: "Gte", fieldPath: "at", value: 1000 }, { type: "Lte", fieldPath: "at", value: 2000 }],
    [{ type: "Eq", fieldPath: "userId", value: "a" }, { type: "Lte", fieldPath: "at", value: 5 }],
    [{ type: "Eq", fieldPath: "userId", value: "a" }, { type: "Gt", fieldPath: "at", value: 2000 }, { type: "Lt", fieldPath: "at", value: 1000 }],
    [{ type: "Eq", fieldPath: "userId", value: "c" }, { type: "Eq", fieldPath: "at", value: 3 }],
    [{ type: "Eq", fieldPath: "userId", value: "c" }, { type: "Eq", fieldPath: "at", value: 3 }, { type: "Eq", fieldPath: "_creationTime", value: 9 }],
    [{ type: "Gte", fieldPath: "userId", value: "b" }],
    [{ type: "Lt", fieldPath: "userId", value: "b" }],
  ];

  it("finds both ends of a range looking at O(log n) entries, whatever the range's size", () => {
    const maxProbes = Math.ceil(Math.log2(N + 1));
    for (const range of ranges) {
      const values = range.map((r) => r.value);
      const first = plain.findIndex((e) => inRange(e.key, range));
      const count = plain.filter((e) => inRange(e.key, range)).length;
      visited = 0;
      const lo = index.lowerBound(range, values);
      const hi = index.upperBound(range, values);
      // The 90,000-entry range of user "b" costs as little to bound as user "c"'s or an empty one.
      expect(visited, JSON.stringify(range)).toBeLessThanOrEqual(2 * maxProbes);
      expect(Math.max(0, hi - lo), JSON.stringify(range)).toBe(count);
      if (count > 0) {
        expect(lo, JSON.stringify(range)).toBe(first);
        // Every entry between the bounds is in the range (it is contiguous in index order).
        expect(inRange(plain[lo].key, range) && inRange(plain[hi - 1].key, range)).toBe(true);
      }
    }
  });
});

describe("sorted indexes", () => {
  let sorted: HostEngine;
  let scan: HostEngine;
  const ids: string[] = [];

  beforeAll(async () => {
    sorted = await createEngine({ functionsDir, env: {}, hooks: { ...hooks, sortedIndexes: true } });
    scan = await createEngine({ functionsDir, env: {}, hooks: { ...hooks, sortedIndexes: false } });
    let seed = 3;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const docs = Array.from({ length: 600 }, () => ({
      userId: `u${Math.floor(rand() * 5)}`,
      // Few distinct times, so equal keys are ordered by _creationTime and _id.
      at: Math.floor(rand() * 40),
      tokens: Math.floor(rand() * 1000),
    }));
    for (const e of [sorted, scan]) {
      await e.runInline(async (ctx) => {
        for (const d of docs) {
          const id = await ctx.db.insert("events", d);
          if (e === sorted) ids.push(id);
        }
      });
      // Build the index, then change data under it: patches and deletes must be reflected.
      await e.call("query", "events:inRange", { loInclusive: true, hiInclusive: true, order: "asc" }, null);
      await e.runInline(async (ctx) => {
        for (let i = 0; i < 100; i += 3) await ctx.db.patch(ids[i], { at: 41 + i, userId: "u1" });
        // Patches that leave every index key as it was: the entries stay, the documents change.
        for (let i = 2; i < 120; i += 5) await ctx.db.patch(ids[i], { tokens: 5_000 + i });
        for (let i = 1; i < 100; i += 7) await (ctx.db as unknown as { delete(id: string): Promise<void> }).delete(ids[i]);
      });
    }
  }, 60_000);

  const cases = [] as Record<string, unknown>[];
  for (const userId of [undefined, "u0", "u1", "u9"]) {
    for (const [lo, hi] of [[undefined, undefined], [10, undefined], [undefined, 20], [10, 20], [20, 10], [15, 15]]) {
      for (const order of ["asc", "desc"]) {
        for (const take of [undefined, 1, 7]) {
          cases.push({ userId, lo, hi, loInclusive: (lo ?? 0) % 2 === 0, hiInclusive: (hi ?? 1) % 2 === 0, order, take });
        }
      }
    }
  }
  cases.push({ userId: "u2", lo: 5, loInclusive: true, hiInclusive: false, order: "desc", take: 5, minTokens: 500 });

  it("returns the same documents in the same order as a scan", async () => {
    for (const c of cases) {
      const a = await sorted.call("query", "events:inRange", c, null);
      const b = await scan.call("query", "events:inRange", c, null);
      expect(a.ok, `${JSON.stringify(c)}: ${JSON.stringify(a)}`).toBe(true);
      expect(a, JSON.stringify(c)).toEqual(b);
    }
  }, 60_000);

  // Page results of the two engines, comparable: cursors hold _creationTime, which differs
  // between the engines (their documents were inserted at different times), so a cursor is
  // compared by the document id it ends with.
  const comparable = (r: CallResult) => {
    if (!r.ok) return r;
    const cursorId = (c: string | null) => (c === null || c === "_end_cursor" ? c : (JSON.parse(c) as string[]).at(-1));
    const v = r.value as { page: string[]; isDone: boolean; continueCursor: string; splitCursor: string | null; pageStatus: string | null };
    return { page: v.page, isDone: v.isDone, continueCursor: cursorId(v.continueCursor), splitCursor: cursorId(v.splitCursor), pageStatus: v.pageStatus };
  };
  const cursorOf = (r: CallResult) => (r.ok ? (r.value as { continueCursor: string }).continueCursor : null);

  it("pages like convex-test: every page, cursor, end cursor and read limit the same", async () => {
    const pageCases = cases.filter((c) => c.take === undefined);
    for (const [n, c] of pageCases.entries()) {
      const numItems = [3, 8, 40][n % 3];
      // Each engine follows its own cursors.
      const cursors: Record<"sorted" | "scan", (string | null)[]> = { sorted: [null], scan: [null] };
      for (let pages = 0; pages < 200; pages++) {
        const a = await sorted.call("query", "events:inPages", { ...c, cursor: cursors.sorted.at(-1)!, numItems }, null);
        const b = await scan.call("query", "events:inPages", { ...c, cursor: cursors.scan.at(-1)!, numItems }, null);
        expect(a.ok, `${JSON.stringify(c)}: ${JSON.stringify(a)}`).toBe(true);
        expect(comparable(a), `${JSON.stringify(c)} page ${pages}`).toEqual(comparable(b));
        if (!a.ok || (a.value as { isDone: boolean }).isDone) break;
        cursors.sorted.push(cursorOf(a));
        cursors.scan.push(cursorOf(b));
      }
      // A page re-read up to an end cursor (as a subscription does), and pages with a read limit.
      const last = (k: "sorted" | "scan") => cursors[k][Math.min(2, cursors[k].length - 1)] ?? undefined;
      const variants = (k: "sorted" | "scan") => [
        { cursor: null, endCursor: cursors[k][1] ?? undefined },
        { cursor: cursors[k][1] ?? null, endCursor: last(k) },
        { cursor: null, maximumRowsRead: 3 },
        { cursor: cursors[k][1] ?? null, maximumRowsRead: 7 },
        { cursor: null, endCursor: "_end_cursor" },
        { cursor: "_end_cursor" },
      ];
      const vs = variants("scan");
      for (const [i, v] of variants("sorted").entries()) {
        const a = await sorted.call("query", "events:inPages", { ...c, numItems, ...v }, null);
        const b = await scan.call("query", "events:inPages", { ...c, numItems, ...vs[i] }, null);
        expect(a.ok, `${JSON.stringify({ ...c, ...v })}: ${JSON.stringify(a)}`).toBe(true);
        expect(comparable(a), JSON.stringify({ ...c, numItems, ...v })).toEqual(comparable(b));
      }
    }
  }, 120_000);

  it("sees the running transaction's own inserts and deletes", async () => {
    for (const [i, c] of cases.filter((_, n) => n % 5 === 0).entries()) {
      const args = { ...c, insertAt: 12, deleteId: ids[200 + i] };
      const a = await sorted.call("mutation", "events:writeThenRange", args, null);
      const b = await scan.call("mutation", "events:writeThenRange", args, null);
      expect(a.ok, `${JSON.stringify(c)}: ${JSON.stringify(a)}`).toBe(true);
      // Inserted ids are identical in both engines (same counters), so results compare directly.
      expect(a, JSON.stringify(c)).toEqual(b);
      // The same in pages: from the start, after a cursor, up to an end cursor (each engine's
      // cursor from a plain query of its own).
      const firstPage = { ...c, take: undefined, cursor: null, numItems: 3 };
      const cursorA = cursorOf(await sorted.call("query", "events:inPages", firstPage, null));
      const cursorB = cursorOf(await scan.call("query", "events:inPages", firstPage, null));
      const pages = (cursor: string | null) => [
        { cursor: null, numItems: 4 },
        { cursor, numItems: 4 },
        { cursor: null, numItems: 2, endCursor: cursor ?? undefined },
      ];
      const pagesB = pages(cursorB);
      for (const [j, more] of pages(cursorA).entries()) {
        const base = { ...args, take: undefined, deleteId: ids[300 + 3 * i + j] };
        const x = await sorted.call("mutation", "events:writeThenPage", { ...base, ...more }, null);
        const y = await scan.call("mutation", "events:writeThenPage", { ...base, ...pagesB[j] }, null);
        expect(x.ok, `${JSON.stringify({ ...base, ...more })}: ${JSON.stringify(x)}`).toBe(true);
        expect(comparable(x), JSON.stringify({ ...base, ...more })).toEqual(comparable(y));
      }
    }
  }, 60_000);
});
