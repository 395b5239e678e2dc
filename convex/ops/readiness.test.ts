// GET /readyz end to end: the indexed facts query, the pure decision and the HTTP status.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { internal } from "../_generated/api";
import { OUTBOX_MAX_AGE_MS, ROLLUP_MAX_LAG_MS, SCHEDULER_MAX_LAG_MS } from "../model/ops/readiness";
import { HEARTBEAT_CURSOR } from "./readiness";
import { newTest, type TestConvex } from "../test.setup";

type Body = { ready: boolean; checks: Array<{ name: string; ok: boolean; detail: string }> };

/** A deployment in good health: OpenAI's key set, the rollup ran a moment ago, the scheduler beats. */
async function healthy(): Promise<TestConvex> {
  const t = newTest();
  await t.run(async (ctx) => {
    await ctx.db.insert("rollupState", { name: "usageMonthly", cursor: Date.now() - 20_000 });
  });
  await t.mutation(internal.ops.readiness.beat, {});
  return t;
}

async function readyz(t: TestConvex): Promise<{ status: number; cacheControl: string | null; body: Body }> {
  const res = await t.fetch("/readyz", { method: "GET" });
  return { status: res.status, cacheControl: res.headers.get("cache-control"), body: (await res.json()) as Body };
}

function failing(body: Body): string[] {
  return body.checks.filter((c) => !c.ok).map((c) => c.name);
}

function pendingMail(status: "queued" | "sending", sendAfter: number) {
  return {
    to: "ada@example.com",
    template: "welcome" as const,
    category: "transactional" as const,
    dedupeKey: `welcome:${status}:${sendAfter}`,
    status,
    sendAfter,
    queuedAt: sendAfter,
  };
}

beforeEach(() => {
  vi.stubEnv("OPENAI_API_KEY", "sk-test-readiness");
  vi.stubEnv("ANTHROPIC_API_KEY", "");
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("GET /readyz", () => {
  test("ready: 200, no-store, every check ok, optional providers reported as not configured", async () => {
    const { status, cacheControl, body } = await readyz(await healthy());
    expect(status).toBe(200);
    expect(cacheControl).toBe("no-store");
    expect(body.ready).toBe(true);
    expect(failing(body)).toEqual([]);
    expect(body.checks.find((c) => c.name === "env:ANTHROPIC_API_KEY")).toEqual({
      name: "env:ANTHROPIC_API_KEY",
      ok: true,
      detail: "not configured",
    });
    // No key value is ever echoed.
    expect(JSON.stringify(body)).not.toContain("sk-test-readiness");
  });

  test("an open breaker: 503 naming it", async () => {
    const t = await healthy();
    const now = Date.now();
    await t.run(async (ctx) => {
      await ctx.db.insert("providerBreakers", {
        provider: "anthropic",
        state: "open",
        changedAt: now,
        openedAt: now,
        reopenAt: now + 30_000,
        coolDownMs: 30_000,
        requests: 20,
        failures: 12,
        lastError: "upstream 503",
        transitions: [],
      });
      await ctx.db.insert("providerBreakers", {
        provider: "openai",
        state: "closed",
        changedAt: now,
        openedAt: null,
        reopenAt: null,
        coolDownMs: 30_000,
        requests: 20,
        failures: 0,
        lastError: null,
        transitions: [],
      });
    });
    const { status, cacheControl, body } = await readyz(t);
    expect(status).toBe(503);
    expect(cacheControl).toBe("no-store");
    expect(body.ready).toBe(false);
    expect(failing(body)).toEqual(["breaker:anthropic"]);
    expect(body.checks.find((c) => c.name === "breaker:openai")?.ok).toBe(true);
  });

  test("a stale rollup: 503 naming it", async () => {
    const t = newTest();
    await t.mutation(internal.ops.readiness.beat, {});
    await t.run(async (ctx) => {
      await ctx.db.insert("rollupState", { name: "usageMonthly", cursor: Date.now() - ROLLUP_MAX_LAG_MS - 60_000 });
    });
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(failing(body)).toEqual(["rollup"]);
  });

  test("a rollup that never ran: 503", async () => {
    const t = newTest();
    await t.mutation(internal.ops.readiness.beat, {});
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(failing(body)).toEqual(["rollup"]);
  });

  test("scheduler lag: the heartbeat cron's last beat older than the limit fails 'scheduler'; a new beat clears it", async () => {
    const t = await healthy();
    // The scheduler stopped running crons: the last beat is now past the limit.
    await t.run(async (ctx) => {
      const row = await ctx.db.query("rollupState").withIndex("by_name", (q) => q.eq("name", HEARTBEAT_CURSOR)).unique();
      await ctx.db.patch("rollupState", row!._id, { cursor: Date.now() - SCHEDULER_MAX_LAG_MS - 30_000 });
    });
    const stale = await readyz(t);
    expect(stale.status).toBe(503);
    expect(failing(stale.body)).toEqual(["scheduler"]);
    expect(stale.body.checks.find((c) => c.name === "scheduler")?.detail).toMatch(/^last heartbeat 15\ds ago \(max 120s\)$/);
    // The cron runs again: ready.
    await t.mutation(internal.ops.readiness.beat, {});
    expect((await readyz(t)).status).toBe(200);
  });

  test("a scheduler that never beat: 503 naming it", async () => {
    const t = newTest();
    await t.run(async (ctx) => {
      await ctx.db.insert("rollupState", { name: "usageMonthly", cursor: Date.now() - 20_000 });
    });
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(failing(body)).toEqual(["scheduler"]);
  });

  test("an old pending email: 503 naming the outbox; a recent or future one does not", async () => {
    const t = await healthy();
    const now = Date.now();
    await t.run(async (ctx) => {
      await ctx.db.insert("emailOutbox", pendingMail("queued", now - 60_000));
      // A follow-up queued ahead is not late.
      await ctx.db.insert("emailOutbox", pendingMail("queued", now + 86_400_000));
    });
    expect((await readyz(t)).status).toBe(200);
    await t.run(async (ctx) => {
      await ctx.db.insert("emailOutbox", pendingMail("sending", now - OUTBOX_MAX_AGE_MS - 60_000));
    });
    const { status, body } = await readyz(t);
    expect(status).toBe(503);
    expect(failing(body)).toEqual(["emailOutbox"]);
  });

  test("OpenAI key missing: 503 naming it", async () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    const { status, body } = await readyz(await healthy());
    expect(status).toBe(503);
    expect(failing(body)).toEqual(["env:OPENAI_API_KEY"]);
  });

  test("OpenAI configured only as a list of master keys with ids: ready; a malformed list is not", async () => {
    vi.stubEnv("OPENAI_API_KEY", "");
    vi.stubEnv("OPENAI_API_KEYS", "k1:sk-first,k2:sk-second");
    vi.stubEnv("OPENAI_ACTIVE_KEY_ID", "k2");
    const t = await healthy();
    const ok = await readyz(t);
    expect(ok.status).toBe(200);
    expect(JSON.stringify(ok.body)).not.toContain("sk-");
    vi.stubEnv("OPENAI_API_KEYS", "no-id-here");
    const bad = await readyz(t);
    expect(bad.status).toBe(503);
    expect(failing(bad.body)).toEqual(["env:OPENAI_API_KEY"]);
  });
});
