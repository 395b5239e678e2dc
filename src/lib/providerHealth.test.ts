import { describe, expect, it } from "vitest";
import { BREAKER_STATES, type BreakerRow, failureRateLine, probeCountdown, recentTransitions, transitionLabel } from "./providerHealth";

describe("provider health in words", () => {
  it("labels each breaker state with its tone", () => {
    expect(BREAKER_STATES.closed).toEqual({ label: "Closed", tone: "success" });
    expect(BREAKER_STATES.half_open).toEqual({ label: "Half-open (probing)", tone: "warning" });
    expect(BREAKER_STATES.open).toEqual({ label: "Open", tone: "critical" });
    expect(transitionLabel({ from: "half_open", to: "closed" })).toBe("Half-open → Closed");
  });

  it("says the failure rate with its counts", () => {
    expect(failureRateLine(3, 4)).toBe("3 of 4 attempts failed (75%)");
    expect(failureRateLine(1, 1)).toBe("1 of 1 attempt failed (100%)");
    expect(failureRateLine(0, 0)).toBe("No attempts");
  });

  it("counts down to the next probe in seconds, then minutes", () => {
    expect(probeCountdown(1_000, 2_000)).toBe("probe due now");
    expect(probeCountdown(30_000, 0)).toBe("probe in 30 s");
    expect(probeCountdown(1_001, 0)).toBe("probe in 2 s");
    expect(probeCountdown(300_000, 0)).toBe("probe in 5 min");
  });

  it("merges the providers' transitions newest first", () => {
    const t = (at: number) => ({ from: "closed" as const, to: "open" as const, at, requests: 1, failures: 1, reopenAt: null, coolDownMs: 1, lastError: null });
    const row = (provider: string, transitions: BreakerRow["transitions"]): BreakerRow => ({
      provider,
      state: "open",
      changedAt: 0,
      openedAt: null,
      reopenAt: null,
      coolDownMs: 1,
      requests: 0,
      failures: 0,
      failureRate: 0,
      lastError: null,
      transitions,
    });
    const merged = recentTransitions([row("a", [t(3), t(1)]), row("b", [t(2)])], 2);
    expect(merged.map((x) => [x.provider, x.at])).toEqual([["a", 3], ["b", 2]]);
  });
});
