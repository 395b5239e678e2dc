import { describe, expect, test } from "vitest";
import { cutoff, DEFAULT_AUDIT_RETENTION_DAYS, retentionDays, usageEventCutoff } from "./retention";

const DAY = 86_400_000;

describe("retention windows", () => {
  test("unset or blank is the default; a valid value is taken", () => {
    expect(retentionDays(undefined, DEFAULT_AUDIT_RETENTION_DAYS, "X")).toBe(400);
    expect(retentionDays("  ", 400, "X")).toBe(400);
    expect(retentionDays("90", 400, "X")).toBe(90);
  });

  test("a typo or a window shorter than a month throws instead of deleting", () => {
    for (const bad of ["4OO", "-1", "0", "30", "1.5", "99999"]) expect(() => retentionDays(bad, 400, "AUDIT_RETENTION_DAYS")).toThrow(/AUDIT_RETENTION_DAYS/);
  });

  test("raw usage events never go past the rollup's cursor", () => {
    const now = 1_000 * DAY;
    expect(cutoff(now, 400)).toBe(600 * DAY);
    expect(usageEventCutoff(now, 400, null)).toBeNull();
    expect(usageEventCutoff(now, 400, 900 * DAY)).toBe(600 * DAY);
    expect(usageEventCutoff(now, 400, 500 * DAY)).toBe(500 * DAY + 1);
  });
});
