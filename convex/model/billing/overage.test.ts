import { describe, expect, test } from "vitest";
import { overageMicros, PLANS, type PlanId } from "../plans";
import {
  billableTokens,
  centsPerTokenDecimal,
  decideOverage,
  describeDiscrepancy,
  lineAmountMicros,
  meteredUsage,
  meterTimestampS,
  METER_MAX_AGE_S,
  monthBill,
  NO_QUANTITIES,
  OVERAGE_CHUNK_TOKENS,
  overageIdentifier,
  reconcileOverage,
  usageTime,
  type MeterQuantities,
} from "./overage";

const C = OVERAGE_CHUNK_TOKENS;
const M = 1_000_000;
const q = (input: number, output: number): MeterQuantities => ({ input, output });

describe("billable tokens: the included allowance covers output first", () => {
  test.each([
    // plan, used (input, output), billable (input, output)
    ["basic", q(0, 0), q(0, 0)],
    ["basic", q(2 * M, 3 * M), q(0, 0)],
    ["basic", q(0, 5 * M), q(0, 0)],
    ["basic", q(0, 5 * M + 1), q(0, 1)],
    ["basic", q(1, 5 * M), q(1, 0)],
    ["basic", q(6 * M, 1 * M), q(2 * M, 0)],
    ["basic", q(3 * M, 6 * M), q(3 * M, 1 * M)],
    ["pro", q(2 * M, 31 * M), q(2 * M, 1 * M)],
    ["pro", q(31 * M, 0), q(1 * M, 0)],
    ["trial", q(9 * M, 9 * M), q(0, 0)],
  ] as [PlanId, MeterQuantities, MeterQuantities][])("%s %o -> %o", (plan, used, billable) => {
    expect(billableTokens(plan, used)).toEqual(billable);
  });

  test("priced per the plan sheet, the billable tokens are exactly overageMicros", () => {
    let seed = 7;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      const plan = (["basic", "pro"] as const)[i % 2];
      const used = q(next() % (40 * M), next() % (40 * M));
      const b = billableTokens(plan, used);
      const o = PLANS[plan].overage!;
      expect(Math.round((b.input * o.inputMicrosPerMillion + b.output * o.outputMicrosPerMillion) / M)).toBe(overageMicros(plan, used.input, used.output));
    }
  });

  test("characters of speech count on the input meter, as the usage summary charges them", () => {
    expect(meteredUsage({ tokensIn: 10, tokensOut: 20, characters: 5 })).toEqual(q(15, 20));
  });
});

describe("deciding the chunks", () => {
  const B = PLANS.basic.includedTokens;
  const decide = (used: MeterQuantities, reported: MeterQuantities = NO_QUANTITIES, final = false, limit = 100) =>
    decideOverage({ plan: "basic", used, reported, final, limit });
  const ranges = (d: ReturnType<typeof decide>) => d.chunks.map((c) => `${c.meter}:${c.from}-${c.to}`);

  test.each([
    // name, used, reported, final, chunks, reported through
    ["at the included amount: nothing", q(0, B), NO_QUANTITIES, false, [], q(0, 0)],
    ["at the included amount, month over: nothing", q(0, B), NO_QUANTITIES, true, [], q(0, 0)],
    ["one token over, during the month: waits for a full chunk", q(0, B + 1), NO_QUANTITIES, false, [], q(0, 0)],
    ["one token over, month over: a one-token chunk", q(0, B + 1), NO_QUANTITIES, true, ["output:0-1"], q(0, 1)],
    ["exactly one chunk over", q(0, B + C), NO_QUANTITIES, false, ["output:0-100000"], q(0, C)],
    ["across chunks", q(0, B + 2 * C + 5), NO_QUANTITIES, false, ["output:0-100000", "output:100000-200000"], q(0, 2 * C)],
    ["across chunks, month over", q(0, B + 2 * C + 5), NO_QUANTITIES, true, ["output:0-100000", "output:100000-200000", "output:200000-200005"], q(0, 2 * C + 5)],
    ["already reported: nothing again", q(0, B + 2 * C + 5), q(0, 2 * C), false, [], q(0, 2 * C)],
    ["the rest once the month is over", q(0, B + 2 * C + 5), q(0, 2 * C), true, ["output:200000-200005"], q(0, 2 * C + 5)],
    ["usage after a final partial chunk: up to the next boundary", q(0, B + 3 * C), q(0, 2 * C + 5), false, ["output:200005-300000"], q(0, 3 * C)],
    ["output covered first: input pays for the rest", q(C + 7, B), NO_QUANTITIES, true, ["input:0-100000", "input:100000-100007"], q(C + 7, 0)],
    ["both meters", q(2 * M, B + C), NO_QUANTITIES, false, [...Array.from({ length: 1 }, () => "output:0-100000"), ...Array.from({ length: 20 }, (_, i) => `input:${i * C}-${(i + 1) * C}`)], q(2 * M, C)],
    ["a cursor past the ledger (plan raised): nothing, never negative", q(0, B + C), q(0, 3 * C), true, [], q(0, 3 * C)],
  ] as [string, MeterQuantities, MeterQuantities, boolean, string[], MeterQuantities][])("%s", (_name, used, reported, final, chunks, through) => {
    const d = decide(used, reported, final);
    expect(ranges(d)).toEqual(chunks);
    expect(d.reportedThrough).toEqual(through);
    expect(d.more).toBe(false);
  });

  test("a limit bounds one decision; the next one continues where it stopped", () => {
    const used = q(5 * C, B + 3 * C);
    const first = decide(used, NO_QUANTITIES, false, 4);
    expect(ranges(first)).toEqual(["output:0-100000", "output:100000-200000", "output:200000-300000", "input:0-100000"]);
    expect(first.more).toBe(true);
    const second = decide(used, first.reportedThrough, false, 4);
    expect(ranges(second)).toEqual(["input:100000-200000", "input:200000-300000", "input:300000-400000", "input:400000-500000"]);
    expect(second.more).toBe(false);
  });

  test("runs at any moments report the same chunks as one run at the end", () => {
    const final = q(B + 7 * C + 123, B + 4 * C + 77);
    const steps = [q(0, B), q(B, B + C - 1), q(B + C, B + 2 * C), q(B + 3 * C + 1, B + 4 * C), final];
    let reported = NO_QUANTITIES;
    const seen: string[] = [];
    for (const [i, used] of steps.entries()) {
      const d = decide(used, reported, i === steps.length - 1);
      seen.push(...ranges(d));
      reported = d.reportedThrough;
    }
    expect(seen.sort()).toEqual(ranges(decide(final, NO_QUANTITIES, true)).sort());
    expect(reported).toEqual(billableTokens("basic", final));
  });

  test("full chunks are whole cents at every overage price, so only a month's last chunk rounds", () => {
    for (const plan of ["basic", "pro"] as const) {
      const o = PLANS[plan].overage!;
      for (const price of [o.inputMicrosPerMillion, o.outputMicrosPerMillion]) expect((C * price) % (10_000 * M)).toBe(0);
    }
  });
});

describe("identifiers and timestamps", () => {
  const userId = "k57a2bq9z3x1c8d7e6f5g4h3j2k1m0nx";

  test("the identifier is deterministic per user, month, meter and chunk, and fits Stripe's 100 characters", () => {
    const chunk = { meter: "output" as const, from: 1_400_000, to: 1_500_000 };
    const id = overageIdentifier(userId, "2026-11", chunk);
    expect(id).toBe(`ovg_${userId}_2026-11_output_1400000_1500000`);
    expect(overageIdentifier(userId, "2026-11", { ...chunk })).toBe(id);
    expect(overageIdentifier(userId, "2026-12", chunk)).not.toBe(id);
    expect(overageIdentifier(userId, "2026-11", { ...chunk, meter: "input" })).not.toBe(id);
    const longest = overageIdentifier(`${userId}abcde`, "2026-11", { meter: "output", from: 149_900_000, to: 150_000_000 });
    expect(longest.length).toBeLessThanOrEqual(100);
  });

  test("usage time is now during the month and the month's last second after it", () => {
    const mid = Date.UTC(2026, 10, 17, 12);
    expect(usageTime("2026-11", mid)).toBe(mid);
    expect(usageTime("2026-11", Date.UTC(2026, 11, 1, 0, 15))).toBe(Date.UTC(2026, 11, 1) - 1_000);
    expect(usageTime("2026-11", Date.UTC(2026, 9, 20))).toBe(Date.UTC(2026, 10, 1));
  });

  test("the timestamp stays inside Stripe's 35-day window", () => {
    const now = Date.UTC(2026, 11, 1, 0, 15);
    const occurred = Date.UTC(2026, 11, 1) - 1_000;
    expect(meterTimestampS(occurred, now)).toBe(occurred / 1_000);
    // A send delayed for weeks: moved forward to an hour inside the window.
    const old = meterTimestampS(Date.UTC(2026, 9, 1), now);
    expect(old).toBe(now / 1_000 - METER_MAX_AGE_S + 3_600);
    // Never in the future.
    expect(meterTimestampS(now + 60_000, now)).toBe(now / 1_000);
    for (const t of [occurred, Date.UTC(2026, 9, 1), now]) {
      const s = meterTimestampS(t, now);
      expect(Number.isInteger(s)).toBe(true);
      expect(s).toBeGreaterThan(now / 1_000 - METER_MAX_AGE_S);
      expect(s).toBeLessThanOrEqual(now / 1_000);
    }
  });
});

describe("the bill", () => {
  test.each([
    // plan, used, overage lines (input, output) in cents
    ["basic", q(1 * M, 2 * M), 0, 0],
    ["basic", q(6 * M, 6_123_457), 1_800, 1_685],
    ["basic", q(3_217_003, 4_123_457), 702, 0],
    ["pro", q(2 * M, 31 * M), 500, 1_200],
    ["pro", q(30 * M + 2, 0), 0, 0],
  ] as [PlanId, MeterQuantities, number, number][])("%s %o", (plan, used, inCents, outCents) => {
    const bill = monthBill(plan, used);
    expect(bill.lines.map((l) => [l.meter, l.amountMicros / 10_000])).toEqual([["input", inCents], ["output", outCents]]);
    expect(bill.totalMicros).toBe(PLANS[plan].priceMicrosPerMonth + (inCents + outCents) * 10_000);
    expect(bill.overageMicros).toBe(overageMicros(plan, used.input, used.output));
  });

  test("each line rounds to the cent half up, as the provider does", () => {
    expect(lineAmountMicros(16_666, 3 * M)).toBe(50_000); // 4.9998 cents
    expect(lineAmountMicros(16_667, 3 * M)).toBe(50_000); // 5.0001
    expect(lineAmountMicros(1_700, 3 * M)).toBe(10_000); // 0.51
    expect(lineAmountMicros(2_000, 2.5 * M)).toBe(10_000); // 0.5: half up
    expect(lineAmountMicros(1_999, 2.5 * M)).toBe(0); // 0.49975
    expect(lineAmountMicros(150 * M, 15 * M)).toBe(2_250 * M);
  });

  test("the invoiced overage is within a cent per line of overageMicros", () => {
    // Both lines just over half a cent: each rounds up, together 2 cents for 1.11 cents of usage.
    const tight = monthBill("basic", q(1_700, PLANS.basic.includedTokens + 400));
    expect(tight.overageMicros).toBe(11_100);
    expect(tight.overageBilledMicros).toBe(20_000);
    let seed = 3;
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31);
    for (let i = 0; i < 2_000; i++) {
      const plan = (["basic", "pro"] as const)[i % 2];
      const bill = monthBill(plan, q(next() % (60 * M), next() % (60 * M)));
      expect(bill.overageBilledMicros % 10_000).toBe(0);
      expect(Math.abs(bill.overageBilledMicros - bill.overageMicros)).toBeLessThanOrEqual(10_000);
    }
  });

  test("metered prices in cents per token, as Stripe's unit_amount_decimal", () => {
    expect(centsPerTokenDecimal(3 * M)).toBe("0.0003");
    expect(centsPerTokenDecimal(15 * M)).toBe("0.0015");
    expect(centsPerTokenDecimal(2.5 * M)).toBe("0.00025");
    expect(centsPerTokenDecimal(12 * M)).toBe("0.0012");
    expect(centsPerTokenDecimal(10_000 * M)).toBe("1");
    expect(centsPerTokenDecimal(12_345 * M)).toBe("1.2345");
  });
});

describe("reconciliation", () => {
  const equal = q(250_000, 100_000);

  test("quiet when every stage agrees, with or without the provider's summary", () => {
    expect(reconcileOverage({ billable: equal, reported: equal, sent: equal, provider: equal })).toEqual([]);
    expect(reconcileOverage({ billable: equal, reported: equal, sent: equal, provider: null })).toEqual([]);
    expect(reconcileOverage({ billable: NO_QUANTITIES, reported: NO_QUANTITIES, sent: NO_QUANTITIES, provider: NO_QUANTITIES })).toEqual([]);
  });

  test.each([
    ["unreported", { billable: q(250_000, 100_001) }, [{ kind: "unreported", meter: "output", expected: 100_001, actual: 100_000 }]],
    ["over_reported", { billable: q(200_000, 100_000) }, [{ kind: "over_reported", meter: "input", expected: 200_000, actual: 250_000 }]],
    ["unsent", { sent: q(150_000, 100_000), provider: q(150_000, 100_000) }, [{ kind: "unsent", meter: "input", expected: 250_000, actual: 150_000 }]],
    ["provider_mismatch", { provider: q(250_000, 200_000) }, [{ kind: "provider_mismatch", meter: "output", expected: 100_000, actual: 200_000 }]],
  ] as const)("%s", (_kind, over, expected) => {
    const found = reconcileOverage({ billable: equal, reported: equal, sent: equal, provider: equal, ...over });
    expect(found).toEqual(expected);
    expect(describeDiscrepancy(found[0])).toMatch(/tokens: .+ expected [\d,]+, found [\d,]+$/);
  });
});
