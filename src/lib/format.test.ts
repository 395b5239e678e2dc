import { describe, expect, it } from "vitest";
import {
  daysOfMonth,
  daysUntil,
  formatCompact,
  formatMoney,
  formatMonth,
  formatOffset,
  formatRelative,
  formatTokens,
  percentUsed,
  shiftMonth,
} from "./format";
import { monthOf } from "../../convex/model/calendar";

describe("numbers for people", () => {
  it("writes token counts compactly with one decimal only below ten", () => {
    expect(formatTokens(0)).toBe("0 tokens");
    expect(formatTokens(1)).toBe("1 token");
    expect(formatTokens(950)).toBe("950 tokens");
    expect(formatTokens(4_230_000)).toBe("4.2M tokens");
    expect(formatTokens(5_000_000)).toBe("5M tokens");
    expect(formatTokens(42_400_000)).toBe("42M tokens");
    expect(formatCompact(12_000)).toBe("12K");
    expect(formatCompact(1_500_000_000)).toBe("1.5B");
  });

  it("formats micro-dollars as dollars and cents with separators", () => {
    expect(formatMoney(0)).toBe("$0.00");
    expect(formatMoney(12_400_000)).toBe("$12.40");
    expect(formatMoney(1_234_567_890_000)).toBe("$1,234,567.89");
    expect(formatMoney(-2_500_000)).toBe("-$2.50");
  });

  it("never calls a paid request free: sub-cent amounts read <$0.01", () => {
    expect(formatMoney(1)).toBe("<$0.01");
    expect(formatMoney(4_999)).toBe("<$0.01");
    expect(formatMoney(5_000)).toBe("$0.01");
  });

  it("shows a sliver of usage as <1% rather than 0%", () => {
    expect(percentUsed(0, 500_000)).toBe("0%");
    expect(percentUsed(26, 5_000_000)).toBe("<1%");
    expect(percentUsed(400_000, 500_000)).toBe("80%");
    expect(percentUsed(600_000, 500_000)).toBe("120%");
    expect(percentUsed(10, 0)).toBe("100%");
  });
});

describe("times", () => {
  const now = Date.UTC(2026, 10, 22, 12, 0, 0);

  it("describes times relative to now in both directions", () => {
    expect(formatRelative(now - 10_000, now)).toBe("just now");
    expect(formatRelative(now - 5 * 60_000, now)).toBe("5 minutes ago");
    expect(formatRelative(now + 60 * 60_000, now)).toBe("in 1 hour");
    expect(formatRelative(now - 3 * 86_400_000, now)).toBe("3 days ago");
  });

  it("counts whole days left, rounding up and never below zero", () => {
    expect(daysUntil(now + 14 * 86_400_000, now)).toBe(14);
    expect(daysUntil(now + 1, now)).toBe(1);
    expect(daysUntil(now - 86_400_000, now)).toBe(0);
  });

  it("keys months in UTC and steps across year boundaries", () => {
    expect(monthOf(now)).toBe("2026-11");
    expect(shiftMonth(monthOf(now), 0)).toBe("2026-11");
    expect(shiftMonth("2026-01", -1)).toBe("2025-12");
    expect(shiftMonth("2026-12", 1)).toBe("2027-01");
    expect(formatMonth("2026-11")).toBe("November 2026");
  });

  it("refuses a month key the usage functions would refuse", () => {
    expect(() => shiftMonth("2026-13", 1)).toThrow(RangeError);
    expect(() => daysOfMonth("November")).toThrow(RangeError);
  });

  it("lists every day of a month, leap years included", () => {
    expect(daysOfMonth("2026-11")).toHaveLength(30);
    expect(daysOfMonth("2028-02").at(-1)).toBe("2028-02-29");
    expect(daysOfMonth("2026-02").at(-1)).toBe("2026-02-28");
  });

  it("shows a timeline's offsets with a decimal below ten seconds and two units above a minute", () => {
    expect(formatOffset(0)).toBe("+0 s");
    expect(formatOffset(400)).toBe("+0.4 s");
    expect(formatOffset(1_960)).toBe("+2 s");
    expect(formatOffset(9_940)).toBe("+9.9 s");
    expect(formatOffset(12_700)).toBe("+12 s");
    expect(formatOffset(60_000)).toBe("+1 min");
    expect(formatOffset(200_000)).toBe("+3 min 20 s");
    expect(formatOffset(2 * 3_600_000 + 5 * 60_000 + 30_000)).toBe("+2 h 5 min");
    expect(formatOffset(24 * 3_600_000)).toBe("+1 d");
    expect(formatOffset(76 * 3_600_000)).toBe("+3 d 4 h");
    expect(formatOffset(-1_500)).toBe("-1.5 s");
  });
});
