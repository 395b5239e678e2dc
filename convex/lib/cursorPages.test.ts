// pageAfter over an in-memory ordered list: the page's bound, the cursor it saves, and that a
// timestamp shared by rows at the page's edge is never split between two runs.
import { describe, expect, test } from "vitest";
import { pageAfter, type TimeIndex } from "./cursorPages";

type Row = { id: number; at: number };

function indexOf(rows: Row[]): TimeIndex<Row> {
  const sorted = [...rows].sort((a, b) => a.at - b.at || a.id - b.id);
  return {
    range: async (from, until, limit) => sorted.filter((r) => r.at > from && r.at <= until).slice(0, limit),
    at: async (time) => sorted.filter((r) => r.at === time),
    time: (r) => r.at,
  };
}

/** Runs pages until none is full; returns the ids each run read and the cursors it saved. */
async function drain(rows: Row[], from: number, until: number, limit: number) {
  const index = indexOf(rows);
  const runs: { ids: number[]; cursor: number }[] = [];
  let cursor = from;
  for (;;) {
    const page = await pageAfter(index, cursor, until, limit);
    runs.push({ ids: page.rows.map((r) => r.id), cursor: page.cursor });
    cursor = page.cursor;
    if (!page.more) return runs;
  }
}

describe("pageAfter", () => {
  test("a page short of the limit is everything up to `until`, and the cursor moves to it", async () => {
    const rows = [1, 2, 3].map((id) => ({ id, at: id * 10 }));
    expect(await drain(rows, 0, 100, 5)).toEqual([{ ids: [1, 2, 3], cursor: 100 }]);
  });

  test("a full page stops before its last timestamp, so the rows tied at it are read together next run", async () => {
    const rows = [
      { id: 1, at: 10 },
      { id: 2, at: 20 },
      { id: 3, at: 30 },
      { id: 4, at: 30 },
      { id: 5, at: 40 },
    ];
    expect(await drain(rows, 0, 100, 3)).toEqual([
      { ids: [1, 2], cursor: 20 },
      { ids: [3, 4], cursor: 30 },
      { ids: [5], cursor: 100 },
    ]);
  });

  test("a page whose rows all share one timestamp reads every row at it, past the limit", async () => {
    const rows = [1, 2, 3, 4].map((id) => ({ id, at: 50 })).concat([{ id: 5, at: 60 }]);
    expect(await drain(rows, 0, 100, 2)).toEqual([
      { ids: [1, 2, 3, 4], cursor: 50 },
      { ids: [5], cursor: 100 },
    ]);
  });

  test("rows after `until` wait for a later run", async () => {
    const rows = [{ id: 1, at: 10 }, { id: 2, at: 200 }];
    expect(await drain(rows, 0, 100, 5)).toEqual([{ ids: [1], cursor: 100 }]);
  });
});
