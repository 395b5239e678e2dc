import { describe, expect, it } from "vitest";
import { nextCronTime, nextRun, parseCron } from "./crons.ts";

const at = (iso: string) => Date.parse(iso);

describe("cron schedules", () => {
  it("finds the next matching minute of a 5-field expression (UTC)", () => {
    expect(nextCronTime(parseCron("*/15 * * * *"), at("2026-11-22T10:07:30Z"))).toBe(at("2026-11-22T10:15:00Z"));
    expect(nextCronTime(parseCron("0 3 * * *"), at("2026-11-22T03:00:00Z"))).toBe(at("2026-11-23T03:00:00Z"));
    expect(nextCronTime(parseCron("30 9 1 * *"), at("2026-11-22T00:00:00Z"))).toBe(at("2026-12-01T09:30:00Z"));
    // Day of month OR day of week when both are restricted, as in cron.
    expect(nextCronTime(parseCron("0 0 1 * 1"), at("2026-11-22T12:00:00Z"))).toBe(at("2026-11-23T00:00:00Z"));
    expect(nextCronTime(parseCron("0 12 * * 1-5"), at("2026-11-21T13:00:00Z"))).toBe(at("2026-11-23T12:00:00Z"));
  });

  it("rejects malformed expressions", () => {
    expect(() => parseCron("* * * *")).toThrow(/5 fields/);
    expect(() => parseCron("61 * * * *")).toThrow(/Invalid cron field/);
  });

  it("maps Convex's schedule kinds", () => {
    const now = at("2026-11-22T10:07:30Z"); // a Sunday
    expect(nextRun({ type: "interval", seconds: 30 }, now, null)).toBe(now + 30_000);
    expect(nextRun({ type: "interval", minutes: 5 }, now, now - 60_000)).toBe(now + 4 * 60_000);
    expect(nextRun({ type: "hourly", minuteUTC: 5 }, now, null)).toBe(at("2026-11-22T11:05:00Z"));
    expect(nextRun({ type: "daily", hourUTC: 2, minuteUTC: 0 }, now, null)).toBe(at("2026-11-23T02:00:00Z"));
    expect(nextRun({ type: "weekly", dayOfWeek: "tuesday", hourUTC: 8 }, now, null)).toBe(at("2026-11-24T08:00:00Z"));
    expect(nextRun({ type: "monthly", day: 1, hourUTC: 0 }, now, null)).toBe(at("2026-12-01T00:00:00Z"));
    expect(nextRun({ type: "cron", cron: "0 * * * *" }, now, null)).toBe(at("2026-11-22T11:00:00Z"));
  });
});
