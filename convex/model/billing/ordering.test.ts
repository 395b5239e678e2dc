import { describe, expect, test } from "vitest";
import type { InvoiceStatus, SubscriptionSnapshot } from "./facts";
import { compareSnapshots, decideSnapshot, invoiceMovesForward } from "./ordering";

const snap = (over: Partial<SubscriptionSnapshot> = {}): SubscriptionSnapshot => ({
  subscriptionId: "sub_1",
  status: "active",
  ended: false,
  cancelAtPeriodEnd: false,
  cancelAt: null,
  currentPeriodStart: 0,
  currentPeriodEnd: 1_000,
  version: 100,
  ...over,
});
const stored = (over: Partial<SubscriptionSnapshot> = {}, provisional = false) => ({ ...snap(over), provisional });

describe("decideSnapshot", () => {
  test("the first snapshot is stored", () => {
    expect(decideSnapshot(null, snap())).toEqual({ apply: true, tie: false });
  });

  test("a newer provider time replaces, an older one is stale, the same state is unchanged", () => {
    expect(decideSnapshot(stored({ version: 100 }), snap({ version: 200, status: "past_due" }))).toEqual({ apply: true, tie: false });
    expect(decideSnapshot(stored({ version: 200, status: "past_due" }), snap({ version: 100 }))).toEqual({ apply: false, why: "stale" });
    expect(decideSnapshot(stored(), snap())).toEqual({ apply: false, why: "unchanged" });
  });

  test("an ended subscription stays ended, even against a later-arriving update with a newer time", () => {
    expect(decideSnapshot(stored({ ended: true, status: "canceled", version: 100 }), snap({ version: 999 }))).toEqual({
      apply: false,
      why: "already_ended",
    });
  });

  test("an end replaces any live state, older or newer", () => {
    expect(decideSnapshot(stored({ version: 500 }), snap({ ended: true, status: "canceled", version: 100 }))).toEqual({ apply: true, tie: false });
  });

  test("within one second the later period, then the further status wins, flagged as a tie to re-fetch", () => {
    expect(decideSnapshot(stored({ status: "past_due" }), snap({ currentPeriodEnd: 2_000 }))).toEqual({ apply: true, tie: true });
    expect(decideSnapshot(stored({ status: "active" }), snap({ status: "past_due" }))).toEqual({ apply: true, tie: true });
    expect(decideSnapshot(stored({ status: "past_due" }), snap({ status: "active" }))).toEqual({ apply: false, why: "stale" });
  });

  test("a provisional row (from checkout) yields to any real snapshot", () => {
    expect(decideSnapshot(stored({ version: 500 }, true), snap({ version: 100 }))).toEqual({ apply: true, tie: false });
  });
});

describe("compareSnapshots is a total order on distinct states", () => {
  const states = [
    snap(),
    snap({ version: 50 }),
    snap({ status: "past_due" }),
    snap({ cancelAtPeriodEnd: true }),
    snap({ cancelAtPeriodEnd: true, cancelAt: 1_000 }),
    snap({ currentPeriodEnd: 2_000 }),
    snap({ ended: true, status: "canceled" }),
    snap({ ended: true, status: "canceled", version: 10 }),
  ];
  test("antisymmetric and transitive", () => {
    for (const a of states) {
      for (const b of states) {
        expect(Math.sign(compareSnapshots(a, b)) + Math.sign(compareSnapshots(b, a))).toBe(0);
        if (a !== b) expect(compareSnapshots(a, b)).not.toBe(0);
        for (const c of states) {
          if (compareSnapshots(a, b) > 0 && compareSnapshots(b, c) > 0) expect(compareSnapshots(a, c)).toBeGreaterThan(0);
        }
      }
    }
  });
});

describe("invoice statuses only move forward", () => {
  const order: InvoiceStatus[] = ["open", "payment_failed", "paid", "partially_refunded", "refunded"];
  test.each(order.flatMap((from, i) => order.map((to, j) => [from, to, j > i] as const)))("%s -> %s: %s", (from, to, forward) => {
    expect(invoiceMovesForward(from, to)).toBe(forward);
  });
  test("void and uncollectible", () => {
    expect(invoiceMovesForward("open", "void")).toBe(true);
    expect(invoiceMovesForward("void", "paid")).toBe(false);
    expect(invoiceMovesForward("uncollectible", "paid")).toBe(true);
  });
});
