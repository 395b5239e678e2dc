import { describe, expect, it } from "vitest";
import { modelKey, pivotDaily } from "./dailyChart";

describe("pivotDaily", () => {
  it("zero-fills quiet days and orders models by total so the largest sits at the base", () => {
    const { data, models } = pivotDaily("2026-11", [
      { day: "2026-11-02", model: "gpt-4o-mini", tokens: 100, costMicros: 1 },
      { day: "2026-11-02", model: "gpt-4.1", tokens: 900, costMicros: 9 },
      { day: "2026-11-05", model: "gpt-4o-mini", tokens: 50, costMicros: 1 },
    ]);
    expect(models).toEqual(["gpt-4.1", "gpt-4o-mini"]);
    expect(data).toHaveLength(30);
    expect(data[0]).toMatchObject({ day: "2026-11-01", label: "1", [modelKey("gpt-4.1")]: 0 });
    expect(data[1]).toMatchObject({ [modelKey("gpt-4.1")]: 900, [modelKey("gpt-4o-mini")]: 100 });
    expect(data[4]).toMatchObject({ [modelKey("gpt-4o-mini")]: 50 });
  });

  it("keeps a model named like a row field from overwriting the day", () => {
    const { data } = pivotDaily("2026-11", [{ day: "2026-11-01", model: "day", tokens: 7, costMicros: 0 }]);
    expect(data[0].day).toBe("2026-11-01");
    expect(data[0][modelKey("day")]).toBe(7);
  });

  it("ignores rows outside the month instead of inventing days", () => {
    const { data } = pivotDaily("2026-11", [{ day: "2026-12-01", model: "m", tokens: 7, costMicros: 0 }]);
    expect(data).toHaveLength(30);
    expect(data.every((row) => row[modelKey("m")] === 0)).toBe(true);
  });
});
