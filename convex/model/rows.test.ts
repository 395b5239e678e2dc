import { describe, expect, test } from "vitest";
import { project } from "./rows";

describe("project", () => {
  test("keeps the named fields and spells an absent optional field as null", () => {
    const row: { a: number; b: string; c?: number; d?: string; e: boolean } = { a: 1, b: "x", d: "y", e: true };
    expect(project(row, ["a", "b"], ["c", "d"])).toEqual({ a: 1, b: "x", c: null, d: "y" });
    expect(project(row, ["e"])).toEqual({ e: true });
  });
});
