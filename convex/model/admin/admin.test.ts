// The console's pure rules: admin key format and Authorization parsing, refund arithmetic,
// search index choice and parameter parsing, stalled-work detection, overview folding.
import { describe, expect, test } from "vitest";
import { adminDisplayPrefix, classifyAuthorization, generateAdminSecret } from "./adminKeys";
import { addInvoice, addUsage, emptyFigures, monthsEndingAt } from "./overview";
import { decideRefund, refundableMicros, statusAfterRefunds } from "./refunds";
import { accountIndexFor, auditIndexFor, checkTimeRange, parseAccountFilter, parseLimit } from "./search";
import { STEP_STUCK_MS, troubledSteps } from "./work";

describe("admin keys", () => {
  test("pdx_admin_ + 43 base62; the header tells admin keys from customer keys and junk", () => {
    const secret = generateAdminSecret();
    expect(secret).toMatch(/^pdx_admin_[0-9A-Za-z]{43}$/);
    expect(generateAdminSecret()).not.toBe(secret);
    expect(adminDisplayPrefix(secret)).toBe(secret.slice(0, 16));
    expect(classifyAuthorization(`Bearer ${secret}`)).toEqual({ kind: "admin", secret });
    expect(classifyAuthorization(null)).toEqual({ kind: "missing" });
    expect(classifyAuthorization("  ")).toEqual({ kind: "missing" });
    expect(classifyAuthorization(`Bearer pk_live_${"a".repeat(43)}`)).toEqual({ kind: "customer_key" });
    expect(classifyAuthorization(`Basic ${secret}`)).toEqual({ kind: "malformed" });
    expect(classifyAuthorization(`Bearer ${secret}x`)).toEqual({ kind: "malformed" });
  });
});

describe("refunds", () => {
  const paid = 50_000_000;
  test("partial refunds up to what was paid; failed ones give nothing back", () => {
    const ledger = { paidMicros: paid, refunds: [{ amountMicros: 20_000_000, status: "succeeded" as const }, { amountMicros: 5_000_000, status: "failed" as const }] };
    expect(refundableMicros(ledger)).toBe(30_000_000);
    expect(decideRefund(ledger, 30_000_000)).toEqual({ ok: true, amountMicros: 30_000_000, amountCents: 3_000, full: false });
    expect(decideRefund(ledger, undefined)).toMatchObject({ ok: true, amountMicros: 30_000_000 });
    expect(decideRefund(ledger, 30_010_000)).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(decideRefund(ledger, 1)).toMatchObject({ ok: false, message: "A refund must be a whole number of cents." });
    expect(decideRefund(ledger, 0)).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(decideRefund(ledger, -10_000)).toMatchObject({ ok: false, code: "INVALID_ARGUMENT" });
    expect(decideRefund({ paidMicros: paid, refunds: [] }, undefined)).toMatchObject({ ok: true, full: true, amountCents: 5_000 });
    // A pending refund counts against what is left: two quick submits cannot both take it all.
    expect(decideRefund({ paidMicros: paid, refunds: [{ amountMicros: paid, status: "pending" }] }, 10_000)).toMatchObject({ ok: false, code: "CONFLICT" });
  });

  test("the invoice's status from what came back", () => {
    expect(statusAfterRefunds(paid, 0)).toBe("paid");
    expect(statusAfterRefunds(paid, 1)).toBe("partially_refunded");
    expect(statusAfterRefunds(paid, paid)).toBe("refunded");
  });
});

describe("search", () => {
  test("each filter combination has its own index", () => {
    expect(accountIndexFor({})).toBe("by_lastSeenAt");
    expect(accountIndexFor({ email: "ada" })).toBe("by_email");
    expect(accountIndexFor({ state: "active" })).toBe("by_state_and_email");
    expect(accountIndexFor({ plan: "pro", email: "a" })).toBe("by_plan_and_email");
    expect(accountIndexFor({ state: "active", plan: "pro" })).toBe("by_state_and_plan_and_email");
    expect(auditIndexFor({ action: "x", actor: "y", targetId: "z" })).toBe("by_targetId_and_at");
    expect(auditIndexFor({ action: "x", actor: "y" })).toBe("by_actorLabel_and_at");
    expect(auditIndexFor({ action: "x" })).toBe("by_action_and_at");
    expect(auditIndexFor({})).toBe("by_at");
  });

  test("query parameters of the admin API", () => {
    expect(parseAccountFilter(new URLSearchParams("state=active&plan=pro&email=%20Ada%20"))).toEqual({ ok: true, value: { state: "active", plan: "pro", email: "ada" } });
    expect(parseAccountFilter(new URLSearchParams("state=gone"))).toMatchObject({ ok: false, param: "state" });
    expect(parseAccountFilter(new URLSearchParams("plan=free"))).toMatchObject({ ok: false, param: "plan" });
    expect(parseLimit(null)).toEqual({ ok: true, value: 25 });
    expect(parseLimit("100")).toEqual({ ok: true, value: 100 });
    for (const bad of ["0", "101", "2.5", "x"]) expect(parseLimit(bad)).toMatchObject({ ok: false, param: "limit" });
    expect(checkTimeRange(5, 1)).toBe("from must be before to.");
    expect(checkTimeRange(undefined, 1)).toBeNull();
  });
});

describe("stalled work", () => {
  test("failed, stalled running, and retry waits long past; not customer waits or recent work", () => {
    const t0 = 1_000_000;
    const asOf = t0 + STEP_STUCK_MS;
    expect(
      troubledSteps(
        [
          { name: "a", status: "failed", updatedAt: t0, lastError: "boom" },
          { name: "b", status: "running", updatedAt: t0 },
          { name: "c", status: "running", updatedAt: t0 + 1 },
          { name: "d", status: "waiting", waitingFor: "captcha", updatedAt: 0 },
          { name: "e", status: "waiting", waitingFor: "retry_after", notBefore: t0, updatedAt: 0 },
          { name: "f", status: "done", updatedAt: 0 },
        ],
        asOf,
      ).map((s) => [s.step, s.kind]),
    ).toEqual([["a", "failed"], ["b", "stuck"], ["e", "stuck"]]);
  });
});

describe("overview folding", () => {
  test("the months window, usage and invoice sums", () => {
    expect(monthsEndingAt(Date.UTC(2026, 1, 10), 3)).toEqual(["2025-12", "2026-01", "2026-02"]);
    let m = addUsage(emptyFigures(), { tokensIn: 10, tokensOut: 5, characters: 0, costMicros: 3, requests: 1 });
    m = addUsage(m, { tokensIn: 0, tokensOut: 0, characters: 0, costMicros: 0, requests: 0 });
    expect(m).toMatchObject({ tokensIn: 10, requests: 1, activeAccounts: 1 });
    m = addInvoice(m, { status: "open", amountMicros: 99 }, 0);
    m = addInvoice(m, { status: "paid", amountMicros: 100 }, 0);
    m = addInvoice(m, { status: "partially_refunded", amountMicros: 100 }, 30);
    m = addInvoice(m, { status: "refunded", amountMicros: 100 }, 0);
    expect(m).toMatchObject({ revenueMicros: 300, refundedMicros: 130, paidInvoices: 3 });
  });
});
