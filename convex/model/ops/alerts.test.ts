import { describe, expect, test } from "vitest";
import {
  alertMail,
  cleanNote,
  emptyHistogram,
  ERROR_RATE,
  errorRateVerdict,
  LATENCY,
  latencyBucket,
  latencyVerdict,
  quantileOf,
  raiseDecision,
  REOPEN_WITHIN_MS,
} from "./alerts";

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

/** A histogram of `fast` samples at 100 ms and `slow` at 700 ms. */
function samples(fast: number, slow: number): number[] {
  const h = emptyHistogram();
  h[latencyBucket(100)] += fast;
  h[latencyBucket(700)] += slow;
  return h;
}

describe("error rate", () => {
  test.each([
    // requests, errors, state
    [99, 50, "insufficient"], // 50% but under the sample floor: 1 error in 3 at night is not a page
    [3, 1, "insufficient"],
    [100, 1, "clear"], // exactly 1% is not over 1%
    [100, 2, "firing"],
    [1000, 10, "clear"],
    [1000, 11, "firing"],
    [200, 0, "clear"],
  ] as const)("%i requests with %i 5xx: %s", (requests, errors, state) => {
    expect(errorRateVerdict("openai", { requests, errors, ttfbCounts: emptyHistogram() }).state).toBe(state);
  });

  test("the message names the provider, the counts and the threshold", () => {
    expect(errorRateVerdict("openai", { requests: 200, errors: 10, ttfbCounts: [] }).message).toBe(
      "10 of 200 requests to openai failed with 5xx in the last 5 min (5.0%; threshold 1.0%).",
    );
    expect(ERROR_RATE.minRequests).toBe(100);
  });
});

describe("p99 latency (time to first byte)", () => {
  test.each([
    // fast, slow, state
    [50, 49, "insufficient"], // 99 samples: under the floor, however slow
    [99, 1, "clear"], // 1 of 100 slow: the p99 sample (rank 99) is fast
    [98, 2, "firing"], // 2 of 100 slow: rank 99 is slow
    [990, 10, "clear"],
    [989, 11, "firing"],
    [0, 100, "firing"],
  ] as const)("%i fast and %i slow samples: %s", (fast, slow, state) => {
    expect(latencyVerdict("openai", { requests: fast + slow, errors: 0, ttfbCounts: samples(fast, slow) }).state).toBe(state);
  });

  test("500 ms is a bucket bound, so a sample of exactly 500 ms is within the threshold", () => {
    expect(latencyBucket(500)).toBe(latencyBucket(499));
    expect(latencyBucket(501)).toBe(latencyBucket(500) + 1);
    const h = emptyHistogram();
    h[latencyBucket(500)] = LATENCY.minSamples;
    expect(latencyVerdict("openai", { requests: 100, errors: 0, ttfbCounts: h }).state).toBe("clear");
  });

  test("quantiles come from the bucket bounds; past the last bound is Infinity", () => {
    expect(quantileOf(emptyHistogram(), 0.99)).toBeNull();
    expect(quantileOf(samples(98, 2), 0.99)).toBe(1_000);
    const h = emptyHistogram();
    h[latencyBucket(60_000)] = 1;
    expect(quantileOf(h, 0.99)).toBe(Infinity);
  });
});

describe("dedupe decision", () => {
  test.each([
    ["no alert yet", null, "insert"],
    ["an open alert", { status: "open" }, "bump"],
    ["an acknowledged alert", { status: "acknowledged" }, "bump"],
    ["auto-resolved a minute ago", { status: "resolved", resolvedBy: "auto", resolvedAt: NOW - 60_000 }, "reopen"],
    ["auto-resolved long ago", { status: "resolved", resolvedBy: "auto", resolvedAt: NOW - REOPEN_WITHIN_MS }, "insert"],
    ["resolved by staff a minute ago", { status: "resolved", resolvedBy: "grace@example.com", resolvedAt: NOW - 60_000 }, "insert"],
  ] as const)("%s: %s", (_name, latest, decision) => {
    expect(raiseDecision(latest, NOW)).toBe(decision);
  });
});

describe("notes and mail", () => {
  test("a note is trimmed and bounded", () => {
    expect(cleanNote("  looking into it ")).toBe("looking into it");
    expect(() => cleanNote("   ")).toThrow(/short note/);
    expect(() => cleanNote("x".repeat(501))).toThrow(/at most 500/);
  });

  test("the mail names the rule, severity and subject, links the page and escapes HTML", () => {
    const mail = alertMail(
      { rule: "provider_outage", severity: "critical", subject: "openai", message: "last: <HTTP 503>", firstSeenAt: NOW },
      "https://app.example.com/",
    );
    expect(mail.subject).toBe("[critical] Provider outage: openai");
    expect(mail.text).toContain("https://app.example.com/admin/alerts");
    expect(mail.html).toContain("last: &lt;HTTP 503&gt;");
    expect(mail.html).not.toContain("<HTTP 503>");
  });
});
