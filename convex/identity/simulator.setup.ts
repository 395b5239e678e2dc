/// <reference types="vite/client" />
// Tests only: the provider simulator as Google Workspace, Telnyx and signal-cli over real HTTP
// (convex-test runs an action's fetch for real), with its signed Telnyx webhooks handed to the
// test deployment's router (the billing stack's receiver), so a verification SMS reaches the app
// exactly as Telnyx would deliver it. The clock is vitest's fake one, advanced only between
// requests (email/simulator.setup.ts `mailClock`).
import { afterEach, beforeAll, beforeEach, expect, vi } from "vitest";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { useBillingStack, stubSimulatorBillingEnv, type SuiteBillingStack } from "../billing/simulator.setup";
import { ENCRYPTION_KEY, mailClock, restoreClock } from "../email/simulator.setup";
import type { TestConvex } from "../test.setup";

export const WORKSPACE_DOMAIN = "dex.test";
export const ADMIN_EMAIL = "admin@dex.test";
export const MESSAGING_PROFILE = "mp_test";
export const START = Date.UTC(2026, 10, 16, 9);
export const DAY = 24 * 60 * 60 * 1000;

export interface IdentityStack extends SuiteBillingStack {
  /** GET /_sim/<provider> */
  state<T>(provider: "google" | "telnyx" | "signal"): Promise<T>;
  /** POST to a simulator control endpoint. */
  control<T = unknown>(path: string, body?: unknown): Promise<T>;
}

/**
 * One simulator for the calling test file with the identity env pointed at it (and Telnyx's
 * webhooks at the test deployment), reset before each test; the fake clock restored after.
 */
export function useIdentityStack(): IdentityStack {
  let serviceAccount: { client_email: string; private_key: string } | null = null;
  let telnyxPublicKey = "";
  const stack = useBillingStack((s) => {
    s.reset();
    stubSimulatorBillingEnv(s.sim);
    s.sim.configure({ telnyx: { webhookUrl: `${s.receiverUrl}/webhooks/telnyx` } });
  });
  beforeAll(async () => {
    serviceAccount = (await (await fetch(`${stack.sim.url}/_sim/google/service-account`, { method: "POST" })).json()) as typeof serviceAccount;
    telnyxPublicKey = ((await (await fetch(`${stack.sim.url}/_sim/telnyx`)).json()) as { publicKey: string }).publicKey;
  });
  beforeEach(() => {
    const env: Record<string, string> = {
      GOOGLE_BASE_URL: stack.sim.url,
      GOOGLE_SERVICE_ACCOUNT_EMAIL: serviceAccount!.client_email,
      GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY: serviceAccount!.private_key,
      GOOGLE_ADMIN_EMAIL: ADMIN_EMAIL,
      WORKSPACE_DOMAIN,
      TELNYX_BASE_URL: stack.sim.url,
      TELNYX_API_KEY: "KEY_test",
      TELNYX_MESSAGING_PROFILE_ID: MESSAGING_PROFILE,
      TELNYX_PUBLIC_KEY: telnyxPublicKey,
      SIGNAL_CLI_URL: stack.sim.url,
      ENCRYPTION_KEY,
    };
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
  });
  afterEach(() => restoreClock());
  return Object.assign(stack, {
    async state<T>(provider: "google" | "telnyx" | "signal"): Promise<T> {
      return (await (await fetch(`${stack.sim.url}/_sim/${provider}`)).json()) as T;
    },
    async control<T = unknown>(path: string, body?: unknown): Promise<T> {
      const res = await fetch(`${stack.sim.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body ?? {}) });
      if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    },
  });
}

/**
 * The fake clock at `start`, never moving while a request is on the wire (mailClock's fetch
 * wrapper). `settle(t)` runs everything; `settle(t, until)` jumps to `until` and then steps on
 * in 250 ms ticks for `tailMs`, so work the jump made due (a wake-up, a retry) can finish its
 * chain of short workpool delays; `stepUntil` ticks until a condition holds.
 */
export function identityClock(start: number) {
  const mail = mailClock(start);
  const inFlight = () => (globalThis as { __identityInFlight?: number }).__identityInFlight ?? 0;
  const realFetch = globalThis.fetch;
  // Counts requests on the wire so ticks wait for them (mailClock's own counter is private).
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const g = globalThis as { __identityInFlight?: number };
    g.__identityInFlight = inFlight() + 1;
    try {
      return await realFetch(input, init);
    } finally {
      g.__identityInFlight = inFlight() - 1;
    }
  });
  const tick = (ms: number) => {
    if (inFlight() === 0) vi.advanceTimersByTime(ms);
  };
  return {
    async settle(t: TestConvex, until?: number, tailMs = 60_000): Promise<void> {
      if (until === undefined) return await mail.settle(t);
      const end = until + tailMs;
      // finishAllScheduledFunctions gives up after a few idle ticks; go on until the tail is over.
      for (let round = 0; round < 1_000 && Date.now() < end; round++) {
        await t.finishAllScheduledFunctions(() => {
          if (Date.now() < until) tick(until - Date.now());
          else if (Date.now() < end) tick(Math.min(250, end - Date.now()));
        }, 5_000);
      }
    },
    async stepUntil(t: TestConvex, check: () => Promise<boolean>, maxMs = 120_000): Promise<void> {
      const end = Date.now() + maxMs;
      while (!(await check())) {
        if (Date.now() >= end) throw new Error("stepUntil: the condition did not hold in time");
        const stop = Date.now() + 100;
        await t.finishAllScheduledFunctions(() => {
          if (Date.now() < stop) tick(stop - Date.now());
        }, 50);
      }
    },
  };
}

export async function identityRows(t: TestConvex, userId: Id<"users">): Promise<Doc<"identities">[]> {
  return await t.run(async (ctx) => ctx.db.query("identities").withIndex("by_userId", (q) => q.eq("userId", userId)).order("desc").collect());
}

export async function liveRow(t: TestConvex, userId: Id<"users">): Promise<Doc<"identities">> {
  const [row] = await identityRows(t, userId);
  expect(row).toBeDefined();
  return row;
}

/** The account put on a plan the way support or the CLI does it (a grant activates a trial). */
export async function grantPlan(t: TestConvex, email: string, plan: "basic" | "pro" = "basic") {
  return await t.mutation(internal.cli.setAccountPlan, { email, plan, reason: "test grant" });
}

export function stepStatuses(row: Doc<"identities">): Record<string, string> {
  return Object.fromEntries(row.steps.map((s) => [s.name, s.waitingFor ? `${s.status}:${s.waitingFor}` : s.status]));
}
