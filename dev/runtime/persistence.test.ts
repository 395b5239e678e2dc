import { describe, expect, it } from "vitest";
import { replay } from "./persistence.ts";

const snapshot = {
  version: 1 as const,
  lastCommitTs: "100",
  components: [
    { path: "", nextDocId: 10002, lastCreationTime: 5, documents: [{ _id: "10000t", v: 1 }, { _id: "10001t", v: 2 }] },
  ],
};

describe("replay", () => {
  it("applies inserts, updates and deletes in order on top of the snapshot", () => {
    const log = [
      { ts: "101", components: [{ path: "", nextDocId: 10003, lastCreationTime: 6, docs: { "10002t": { _id: "10002t", v: 3 }, "10000t": null } }] },
      { ts: "102", components: [{ path: "", nextDocId: 10003, lastCreationTime: 6, docs: { "10001t": { _id: "10001t", v: 20 } } }] },
      { ts: "103", components: [{ path: "pool", nextDocId: 10001, lastCreationTime: 7, docs: { "10000w": { _id: "10000w" } } }] },
    ]
      .map((e) => JSON.stringify(e))
      .join("\n");
    expect(replay(snapshot, log)).toEqual({
      version: 1,
      lastCommitTs: "103",
      components: [
        { path: "", nextDocId: 10003, lastCreationTime: 6, documents: [{ _id: "10001t", v: 20 }, { _id: "10002t", v: 3 }] },
        { path: "pool", nextDocId: 10001, lastCreationTime: 7, documents: [{ _id: "10000w" }] },
      ],
    });
  });

  it("ignores a torn last line but not a corrupt earlier one", () => {
    const good = JSON.stringify({ ts: "101", components: [] });
    expect(replay(snapshot, `${good}\n{"ts":"10`)?.lastCommitTs).toBe("101");
    expect(() => replay(snapshot, `{"ts":"10\n${good}`)).toThrow(/log line 1/);
  });

  it("starts empty without snapshot or log", () => {
    expect(replay(null, "")).toBeNull();
  });
});
