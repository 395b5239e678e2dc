import { describe, expect, test } from "vitest";
import { LATE_START_MS, seriesSchedule } from "./series";

const HOUR = 60 * 60 * 1000;
const T0 = Date.UTC(2026, 10, 10, 9);

describe("seriesSchedule", () => {
  test("welcome now (transactional), follow-ups 24 h, 72 h and 7 days after the account was made (marketing)", () => {
    expect(seriesSchedule(T0, T0 + 5)).toEqual([
      expect.objectContaining({ template: "welcome", category: "transactional", sendAfter: undefined }),
      expect.objectContaining({ template: "followup_24h", category: "marketing", sendAfter: T0 + 24 * HOUR }),
      expect.objectContaining({ template: "followup_72h", category: "marketing", sendAfter: T0 + 72 * HOUR }),
      expect.objectContaining({ template: "followup_1w", category: "marketing", sendAfter: T0 + 7 * 24 * HOUR }),
    ]);
  });

  test("an account made long before its onboarding starts is timed from now, so the follow-ups do not all fall due at once", () => {
    const now = T0 + 5 * 24 * HOUR;
    expect(seriesSchedule(T0, now).map((s) => s.sendAfter)).toEqual([undefined, now + 24 * HOUR, now + 72 * HOUR, now + 7 * 24 * HOUR]);
    expect(seriesSchedule(T0, T0 + LATE_START_MS)[1].sendAfter).toBe(T0 + 24 * HOUR);
  });
});
