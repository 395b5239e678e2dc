import { describe, expect, it } from "vitest";
import { api, internal } from "../_generated/api";
import { BREAKER_HISTORY } from "../schema/proxy";
import { breakerTransition, newTest, signIn } from "../test.setup";

describe("providerBreakers transitions", () => {
  it("records a transition and answers the persisted state", async () => {
    const t = newTest();
    const row = await t.mutation(internal.proxy.breakers.recordTransition, { provider: "openai", transition: breakerTransition("closed", "open", 1_000) });
    expect(row).toEqual({ provider: "openai", state: "open", changedAt: 1_000, openedAt: 1_000, reopenAt: 31_000, coolDownMs: 30_000 });
    expect(await t.query(internal.proxy.breakers.current, {})).toEqual([row]);
  });

  it("keeps the episode's openedAt through half-open and a re-open, and clears it on close", async () => {
    const t = newTest();
    const record = (tr: ReturnType<typeof breakerTransition>) => t.mutation(internal.proxy.breakers.recordTransition, { provider: "openai", transition: tr });
    await record(breakerTransition("closed", "open", 1_000));
    await record(breakerTransition("open", "half_open", 31_000));
    expect(await record(breakerTransition("half_open", "open", 31_500))).toMatchObject({ state: "open", openedAt: 1_000, reopenAt: 61_500 });
    expect(await record(breakerTransition("half_open", "closed", 62_000))).toMatchObject({ state: "closed", openedAt: null, reopenAt: null });
  });

  it("lets the most recent transition win: an older one, or a duplicate from another process, records nothing", async () => {
    const t = newTest();
    const record = (tr: ReturnType<typeof breakerTransition>) => t.mutation(internal.proxy.breakers.recordTransition, { provider: "openai", transition: tr });
    await record(breakerTransition("closed", "open", 2_000));
    // Another process closed-then-reports late, and a third opened at the same time as the first.
    expect(await record(breakerTransition("half_open", "closed", 1_500))).toMatchObject({ state: "open", changedAt: 2_000 });
    expect(await record(breakerTransition("closed", "open", 2_100))).toMatchObject({ state: "open", changedAt: 2_000 });
    const { as } = await signIn(t, "support@example.com", "support");
    const [row] = await as.query(api.proxy.breakers.list, {});
    expect(row.transitions).toHaveLength(1);
  });

  it("keeps the last transitions only, newest first, and shows support the failure rate", async () => {
    const t = newTest();
    for (let i = 0; i < BREAKER_HISTORY + 5; i++) {
      const at = 1_000 * (i + 1);
      await t.mutation(internal.proxy.breakers.recordTransition, {
        provider: "gemini",
        transition: i % 2 === 0 ? breakerTransition("closed", "open", at) : breakerTransition("half_open", "closed", at),
      });
    }
    const { as } = await signIn(t, "support@example.com", "support");
    const [row] = await as.query(api.proxy.breakers.list, {});
    expect(row.transitions).toHaveLength(BREAKER_HISTORY);
    expect(row.transitions[0].at).toBe(1_000 * (BREAKER_HISTORY + 5));
    expect(row).toMatchObject({ provider: "gemini", state: "open", requests: 20, failures: 12, failureRate: 0.6, lastError: "HTTP 502" });
  });
});
