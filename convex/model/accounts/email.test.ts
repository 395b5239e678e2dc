import { expect, test } from "vitest";
import { normalizeEmail } from "./email";

test("addresses are stored trimmed and lower-cased; junk is refused", () => {
  expect(normalizeEmail("  Ada@Example.COM ")).toBe("ada@example.com");
  expect(normalizeEmail("ada@example")).toBeNull();
  expect(normalizeEmail("ada example.com")).toBeNull();
  expect(normalizeEmail("")).toBeNull();
});
