// The soak test's checks on hand-made rows: a clean run passes, and each way of losing or
// double-billing a request (or of overstepping an estimate's bound) is reported.
import { describe, expect, it } from "vitest";
import {
  checkStoredData,
  reconcileOverage,
  reconcileUsage,
  reconcileWebhooks,
  type ClientAttempt,
  type LedgerEvent,
  type ServedRow,
  type UsageInput,
} from "./reconcile.ts";

const user = "10001users";
const email = "soak-0@example.com";

function attempt(tag: string, over: Partial<ClientAttempt> = {}): ClientAttempt {
  return { tag, email, model: "gpt-4o-mini", stream: false, promptBound: 40, maxOutput: 64, outcome: "ok", httpStatus: 200, backendRequestId: `req_${tag}`, startedAt: 0, latencyMs: 10, ...over };
}

function served(tag: string, over: Partial<ServedRow> = {}): ServedRow {
  return { seq: 1, requestId: `sim_${tag}`, tag, path: "/v1/chat/completions", stream: false, status: 200, outcome: "completed", usage: { prompt_tokens: 12, completion_tokens: 20 }, plannedUsage: { prompt_tokens: 12, completion_tokens: 20 }, eventsWritten: null, ...over };
}

let ids = 0;
function event(requestId: string, over: Partial<LedgerEvent> = {}): LedgerEvent {
  return { _id: `${++ids}usageEvents`, requestId, userId: user, model: "gpt-4o-mini", tokensIn: 12, tokensOut: 20, characters: 0, costMicros: 14, usageSource: "provider", status: "ok", httpStatus: 200, at: Date.UTC(2026, 10, 29), ...over };
}

/** A balance that agrees with `events`, so only the check under test can fail. */
function input(attempts: ClientAttempt[], rows: ServedRow[], events: LedgerEvent[]): UsageInput {
  const sum = (f: (e: LedgerEvent) => number) => events.reduce((s, e) => s + f(e), 0);
  return {
    attempts,
    served: rows,
    events,
    accounts: [{ userId: user, email, plan: "trial", state: "trial" }],
    balances: events.length === 0 ? [] : [{ userId: user, month: "2026-11", tokensIn: sum((e) => e.tokensIn), tokensOut: sum((e) => e.tokensOut), characters: 0, costMicros: sum((e) => e.costMicros), requests: events.length }],
    seeded: [],
  };
}

describe("reconcileUsage", () => {
  it("passes when every served request has exactly its usage, whatever way it was matched", () => {
    const cutRow = served("c", { stream: true, outcome: "cut", usage: null, eventsWritten: 6 });
    const result = reconcileUsage(
      input(
        [
          attempt("a"),
          // Aborted before the answer: no backend id; its event is found by the reported usage.
          attempt("b", { outcome: "aborted_before_answer", backendRequestId: null, httpStatus: null }),
          attempt("c", { stream: true, outcome: "stream_error" }),
          attempt("f", { outcome: "http_error", httpStatus: 502 }),
          attempt("r", { outcome: "http_error", httpStatus: 429 }),
        ],
        [served("a"), served("b"), cutRow, served("f", { status: 500, outcome: "failed", usage: null, plannedUsage: null })],
        [
          event("req_a"),
          event("req_unnamed_b"),
          event("req_c", { usageSource: "estimate", status: "upstream_error", tokensIn: 40, tokensOut: 5 }),
          event("req_f", { tokensIn: 0, tokensOut: 0, costMicros: 0, status: "upstream_error", httpStatus: 502 }),
        ],
      ),
    );
    expect(result.failures).toEqual([]);
    expect(result.figures.classes).toEqual({ provider_count: 2, estimate_cut: 1, explained_client_left: 0, upstream_failed: 1, not_sent_upstream: 1 });
    expect(result.figures.matchedWithoutId).toBe(1);
    expect(result.figures.providerTokens.billed).toEqual({ in: 24, out: 40 });
  });

  it("fails on a request billed twice", () => {
    const result = reconcileUsage(input([attempt("a")], [served("a")], [event("req_a"), event("req_a")]));
    expect(result.failures.some((f) => f.includes("billed 2 times"))).toBe(true);
  });

  it("fails on a request the upstream served that the ledger lost", () => {
    const result = reconcileUsage(input([attempt("a"), attempt("b")], [served("a"), served("b")], [event("req_a")]));
    expect(result.failures).toEqual([
      expect.stringContaining("lost: the upstream served sim_b"),
      "provider-counted tokens: upstream reported 24+40, ledger billed 12+20",
    ]);
  });

  it("fails when the ledger's count differs from the upstream's by one token", () => {
    const result = reconcileUsage(input([attempt("a")], [served("a")], [event("req_a", { tokensOut: 21 })]));
    expect(result.failures.join("\n")).toMatch(/ledger provider 12\+21, upstream reported 12\+20/);
  });

  it("fails on an estimate over its bound, and on a cut stream billed as if counted", () => {
    const cut = served("c", { stream: true, outcome: "cut", usage: null, eventsWritten: 6 });
    const over = reconcileUsage(input([attempt("c", { stream: true })], [cut], [event("req_c", { usageSource: "estimate", tokensIn: 40, tokensOut: 6 })]));
    // 6 events written = the role chunk + 5 content deltas: 6 output tokens is one too many.
    expect(over.failures).toEqual([expect.stringContaining("over its bound")]);
    const promptOver = reconcileUsage(input([attempt("c", { stream: true })], [cut], [event("req_c", { usageSource: "estimate", tokensIn: 41, tokensOut: 1 })]));
    expect(promptOver.failures).toEqual([expect.stringContaining("over its bound")]);
    const unflagged = reconcileUsage(input([attempt("c", { stream: true })], [cut], [event("req_c", { tokensIn: 40, tokensOut: 5 })]));
    expect(unflagged.failures).toEqual([expect.stringContaining("not flagged as an estimate")]);
  });

  it("fails on usage nobody asked for, the upstream answering twice, and a failed upstream billed", () => {
    const stray = reconcileUsage(input([], [], [event("req_x")]));
    expect(stray.failures).toEqual([expect.stringContaining("with no client request")]);
    const twice = reconcileUsage(input([attempt("a")], [served("a", { seq: 1 }), served("a", { seq: 2, requestId: "sim_a2" })], [event("req_a")]));
    expect(twice.failures).toEqual([expect.stringContaining("answered 2 times")]);
    const failedBilled = reconcileUsage(input([attempt("f", { outcome: "http_error", httpStatus: 502 })], [served("f", { outcome: "failed", status: 500, usage: null })], [event("req_f")]));
    expect(failedBilled.failures).toEqual([expect.stringContaining("every upstream attempt failed, yet it was billed")]);
    const untagged = reconcileUsage(input([], [served("ghost")], []));
    expect(untagged.failures).toEqual([expect.stringContaining("for no client request")]);
  });

  it("fails when a balance is not the sum of its events, or a month goes over its hard cap", () => {
    const base = input([attempt("a")], [served("a")], [event("req_a")]);
    const drifted = reconcileUsage({ ...base, balances: [{ ...base.balances[0], tokensIn: 13 }] });
    expect(drifted.failures).toEqual([expect.stringContaining("tokensIn 13, its usage events sum to 12")]);
    const seededOver = reconcileUsage({
      ...input([], [], [event("seed_1", { tokensIn: 500_001, tokensOut: 0 })]),
      seeded: [{ requestId: "seed_1", userId: user, tokensIn: 500_001, tokensOut: 0 }],
    });
    expect(seededOver.failures).toEqual([expect.stringContaining("over its trial hard cap 500000")]);
  });
});

describe("reconcileWebhooks", () => {
  it("passes with duplicates delivered and one row each; fails on a missing or doubled row", () => {
    const deliveries = [
      { provider: "stripe", eventId: "evt_1", status: 200 },
      { provider: "stripe", eventId: "evt_1", status: 200 },
      { provider: "stripe", eventId: "evt_2", status: 200 },
      { provider: "stripe", eventId: "evt_3", status: null },
    ];
    const rows = [
      { provider: "stripe", eventId: "evt_1", status: "applied", outcome: "applied" },
      { provider: "stripe", eventId: "evt_2", status: "ignored", outcome: "ignored" },
      { provider: "clerk", eventId: "x", outcome: "ok" },
    ];
    const ok = reconcileWebhooks(deliveries, rows);
    expect(ok.failures).toEqual([]);
    expect(ok.figures).toMatchObject({ deliveries: 3, distinctEvents: 2, duplicatesDelivered: 1, rows: 2 });
    expect(reconcileWebhooks(deliveries, rows.slice(1)).failures).toEqual([expect.stringContaining("stripe:evt_1 was accepted (200) but has no webhookEvents row")]);
    expect(reconcileWebhooks(deliveries, [...rows, rows[0]]).failures).toEqual([expect.stringContaining("recorded 2 times")]);
    expect(reconcileWebhooks([...deliveries, { provider: "stripe", eventId: "evt_4", status: 400 }], rows).failures).toEqual([expect.stringContaining("answered 400")]);
  });
});

describe("reconcileOverage", () => {
  const chunk = (from: number, to: number, status: "sent" | "pending" = "sent") => ({ userId: user, month: "2026-11", meter: "input" as const, from, to, identifier: `ovg_${user}_2026-11_input_${from}_${to}`, status });
  const cursor = (reported: number, sent: number) => ({ userId: user, month: "2026-11", reported: { input: reported, output: 0 }, sent: { input: sent, output: 0 } });

  it("passes when chunks tile the cursor and the provider holds each sent one once", () => {
    const outbox = [chunk(0, 100_000), chunk(100_000, 200_000, "pending")];
    const result = reconcileOverage(outbox, [cursor(200_000, 100_000)], [{ identifier: outbox[0].identifier, value: 100_000 }]);
    expect(result.failures).toEqual([]);
    expect(result.figures).toEqual({ accounts: 1, chunks: 2, sent: 1, pending: 1, tokensReported: 200_000 });
  });

  it("fails on a chunk decided twice, reported twice, or missing at the provider", () => {
    const outbox = [chunk(0, 100_000)];
    const held = [{ identifier: outbox[0].identifier, value: 100_000 }];
    expect(reconcileOverage([...outbox, chunk(0, 100_000)], [cursor(100_000, 100_000)], held).failures.join("\n")).toMatch(/decided 2 times/);
    expect(reconcileOverage(outbox, [cursor(100_000, 100_000)], [...held, ...held]).failures).toEqual([expect.stringContaining("reported to the provider 2 times")]);
    expect(reconcileOverage(outbox, [cursor(100_000, 100_000)], []).failures).toEqual([expect.stringContaining("the provider does not have it")]);
    expect(reconcileOverage(outbox, [cursor(200_000, 100_000)], held).failures).toEqual([expect.stringContaining("cursor reported 200000, chunks cover 100000")]);
  });
});

describe("checkStoredData", () => {
  it("passes a consistent data dir and names each broken invariant", () => {
    const events = [event("req_1"), event("req_2", { tokensIn: 3, tokensOut: 4, costMicros: 2 })];
    const balances = [{ userId: user, month: "2026-11", tokensIn: 15, tokensOut: 24, characters: 0, costMicros: 16, requests: 2 }];
    const webhookEvents = [{ provider: "stripe", eventId: "evt_1", outcome: "applied", status: "applied" }];
    const clean = { events, balances, webhookEvents, outbox: [], cursors: [] };
    expect(checkStoredData(clean)).toEqual([]);
    expect(checkStoredData({ ...clean, events: [...events, events[0]] })).toEqual([
      "request req_1 billed 2 times",
      expect.stringContaining("tokensIn 15, its usage events sum to 27"),
      expect.stringContaining("tokensOut 24"),
      expect.stringContaining("costMicros 16"),
      expect.stringContaining("requests 2"),
    ]);
    expect(checkStoredData({ ...clean, webhookEvents: [...webhookEvents, ...webhookEvents] })).toEqual(["webhook stripe:evt_1 recorded 2 times"]);
    expect(checkStoredData({ ...clean, balances: [] })).toEqual([expect.stringContaining("have no balance document")]);
  });
});
