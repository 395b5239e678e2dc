import { describe, expect, test } from "vitest";
import { OUTBOX_MAX_AGE_MS, readiness, ROLLUP_MAX_LAG_MS, type ReadinessFacts, SCHEDULER_MAX_LAG_MS } from "./readiness";

const NOW = Date.UTC(2026, 10, 29, 12, 0, 0);

function facts(over: Partial<ReadinessFacts> = {}): ReadinessFacts {
  return {
    now: NOW,
    providerKeys: {
      OPENAI_API_KEY: true,
      ANTHROPIC_API_KEY: true,
      GEMINI_API_KEY: true,
      ELEVENLABS_API_KEY: true,
      EMAIL_API_KEY: true,
    },
    breakers: [],
    rollupCursor: NOW - 20_000,
    heartbeatAt: NOW - 30_000,
    oldestPendingEmailDueAt: null,
    ...over,
  };
}

function failing(f: ReadinessFacts) {
  return readiness(f)
    .checks.filter((c) => !c.ok)
    .map((c) => c.name);
}

describe("readiness", () => {
  test("healthy facts are ready and every check passes", () => {
    const r = readiness(facts());
    expect(r.ready).toBe(true);
    expect(r.checks.every((c) => c.ok)).toBe(true);
    expect(r.checks.map((c) => c.name)).toEqual([
      "env:OPENAI_API_KEY",
      "env:ANTHROPIC_API_KEY",
      "env:GEMINI_API_KEY",
      "env:ELEVENLABS_API_KEY",
      "env:EMAIL_API_KEY",
      "rollup",
      "scheduler",
      "emailOutbox",
    ]);
  });

  test.each<[string, Partial<ReadinessFacts>, string[]]>([
    ["OpenAI key missing", { providerKeys: { ...facts().providerKeys, OPENAI_API_KEY: false } }, ["env:OPENAI_API_KEY"]],
    [
      "optional keys missing stay ok",
      {
        providerKeys: {
          OPENAI_API_KEY: true,
          ANTHROPIC_API_KEY: false,
          GEMINI_API_KEY: false,
          ELEVENLABS_API_KEY: false,
          EMAIL_API_KEY: false,
        },
      },
      [],
    ],
    ["an open breaker", { breakers: [{ provider: "anthropic", state: "open", reopenAt: NOW + 30_000 }] }, ["breaker:anthropic"]],
    ["a half-open breaker is probing, ok", { breakers: [{ provider: "gemini", state: "half_open", reopenAt: null }] }, []],
    ["a closed breaker", { breakers: [{ provider: "openai", state: "closed", reopenAt: null }] }, []],
    ["rollup at the limit", { rollupCursor: NOW - ROLLUP_MAX_LAG_MS }, []],
    ["rollup past the limit", { rollupCursor: NOW - ROLLUP_MAX_LAG_MS - 1 }, ["rollup"]],
    ["rollup never ran", { rollupCursor: null }, ["rollup"]],
    ["scheduler heartbeat at the limit", { heartbeatAt: NOW - SCHEDULER_MAX_LAG_MS }, []],
    ["scheduler heartbeat past the limit", { heartbeatAt: NOW - SCHEDULER_MAX_LAG_MS - 1 }, ["scheduler"]],
    ["scheduler heartbeat never ran", { heartbeatAt: null }, ["scheduler"]],
    ["outbox mail due at the limit", { oldestPendingEmailDueAt: NOW - OUTBOX_MAX_AGE_MS }, []],
    ["outbox mail due past the limit", { oldestPendingEmailDueAt: NOW - OUTBOX_MAX_AGE_MS - 1 }, ["emailOutbox"]],
    [
      "several failures are all named",
      {
        providerKeys: { ...facts().providerKeys, OPENAI_API_KEY: false },
        breakers: [
          { provider: "openai", state: "open", reopenAt: null },
          { provider: "elevenlabs", state: "open", reopenAt: NOW - 1 },
        ],
        rollupCursor: null,
        heartbeatAt: NOW - 600_000,
        oldestPendingEmailDueAt: NOW - 3_600_000,
      },
      ["env:OPENAI_API_KEY", "breaker:elevenlabs", "breaker:openai", "rollup", "scheduler", "emailOutbox"],
    ],
  ])("%s", (_name, over, expected) => {
    const f = facts(over);
    expect(failing(f)).toEqual(expected);
    expect(readiness(f).ready).toBe(expected.length === 0);
  });

  test("details say what is wrong without any secret", () => {
    const r = readiness(
      facts({
        providerKeys: { ...facts().providerKeys, OPENAI_API_KEY: false, GEMINI_API_KEY: false },
        breakers: [{ provider: "anthropic", state: "open", reopenAt: NOW + 30_000 }],
        rollupCursor: NOW - 180_000,
        heartbeatAt: NOW - 300_000,
        oldestPendingEmailDueAt: NOW - 20 * 60_000,
      }),
    );
    const detail = Object.fromEntries(r.checks.map((c) => [c.name, c.detail]));
    expect(detail).toMatchObject({
      "env:OPENAI_API_KEY": "missing (required)",
      "env:GEMINI_API_KEY": "not configured",
      "env:ANTHROPIC_API_KEY": "configured",
      "breaker:anthropic": "open, next probe in 30s",
      rollup: "lag 180s (max 120s)",
      scheduler: "last heartbeat 300s ago (max 120s)",
      emailOutbox: "oldest due mail pending 1200s (max 900s)",
    });
  });

  test("a clock slightly behind the cursor is not negative lag", () => {
    expect(readiness(facts({ rollupCursor: NOW + 5_000 })).checks.find((c) => c.name === "rollup")?.detail).toBe("lag 0s (max 120s)");
  });
});
