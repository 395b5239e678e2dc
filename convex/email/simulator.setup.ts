/// <reference types="vite/client" />
// The provider simulator as the email API for the email tests: real HTTP from the send action
// (convex-test runs an action's fetch for real) to the simulator's POST /emails, and the mail
// it captured read back from GET /_sim/inbox.json, as a person's inbox would show it.
//
// Follow-ups are days apart, so the tests run on vitest's fake clock. A fake clock and real
// sockets do not mix on their own: advancing "all timers" would also fire the HTTP client's
// connect and body timeouts while a request is on the wire. `mailClock` therefore advances
// time only between requests, never during one.
import { afterAll, afterEach, beforeAll, beforeEach, vi } from "vitest";
import type { TestConvex } from "../test.setup";

export interface CapturedMail {
  id: string;
  from: string;
  to: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
}

export interface EmailSimulator {
  url: string;
  configure(patch: Record<string, unknown>): unknown;
  requests(options?: { pathPrefix?: string }): Array<{ method: string; path: string; status: number | null; headers: Record<string, unknown> }>;
  reset(): void;
  close(): Promise<void>;
}

// Not a static import: the simulator is Node code written for the root tsconfig (`.ts` import
// paths), which convex/tsconfig.json does not type-check.
const SIMULATOR_MODULE = "../../dev/simulator/server.ts";

export async function startEmailSimulator(): Promise<EmailSimulator> {
  const { startSimulator } = (await import(/* @vite-ignore */ SIMULATOR_MODULE)) as {
    startSimulator(options: { port: number; useEnv: boolean }): Promise<EmailSimulator>;
  };
  return await startSimulator({ port: 0, useEnv: false });
}

/**
 * One email simulator for the calling test file: started before its tests and closed after
 * them, reset with the deployment's email env pointed at it before each test, and the clock
 * restored after each. Call at the top level of the file; the handle it returns stands for the
 * simulator inside tests and hooks.
 */
export function useEmailSimulator(): EmailSimulator {
  let started: EmailSimulator | null = null;
  const current = (): EmailSimulator => {
    if (started === null) throw new Error("the email simulator is used outside this file's tests");
    return started;
  };
  beforeAll(async () => {
    started = await startEmailSimulator();
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => {
    current().reset();
    stubEmailEnv(current());
  });
  afterEach(() => restoreClock());
  return {
    get url() {
      return current().url;
    },
    configure: (patch) => current().configure(patch),
    requests: (options) => current().requests(options),
    reset: () => current().reset(),
    close: () => current().close(),
  };
}

export const SITE_URL = "https://poindexter-test.convex.site";
export const APP_URL = "https://app.poindexter.test";
export const ENCRYPTION_KEY = "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy1sb25nIQ==";

/** The deployment env the delivery reads, pointed at the simulator. */
export function stubEmailEnv(sim: EmailSimulator, apiKey = "re_sim_test"): void {
  vi.stubEnv("EMAIL_BASE_URL", sim.url);
  vi.stubEnv("EMAIL_API_KEY", apiKey);
  vi.stubEnv("APP_URL", APP_URL);
  vi.stubEnv("CONVEX_SITE_URL", SITE_URL);
  vi.stubEnv("ENCRYPTION_KEY", ENCRYPTION_KEY);
}

let inFlight = 0;

/**
 * Fake timers starting at `start`, with fetch wrapped so the clock never moves while a request
 * is on the wire (the response body is read inside the wrapper, so its timeouts are covered
 * too). `settle` runs every scheduled function that falls due, the workpool's included.
 */
export function mailClock(start: number) {
  const realFetch = globalThis.fetch;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    inFlight++;
    try {
      const response = await realFetch(input, init);
      const body = await response.arrayBuffer();
      return new Response(response.status === 204 ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
    } finally {
      inFlight--;
    }
  });
  vi.useFakeTimers({ now: start });
  return {
    /**
     * Runs what falls due: everything (the whole series, every retry) or, with `until`, only
     * what is due by then, leaving the clock at `until`.
     */
    async settle(t: TestConvex, until?: number): Promise<void> {
      const advance =
        until === undefined
          ? () => {
              if (inFlight === 0) vi.runAllTimers();
            }
          : () => {
              if (inFlight === 0) vi.advanceTimersByTime(Math.max(0, until - Date.now()));
            };
      await t.finishAllScheduledFunctions(advance, 1_000);
    },
  };
}

export function restoreClock(): void {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.unstubAllEnvs();
}

/** Mail the simulator captured for one address, oldest first. */
export async function inbox(sim: EmailSimulator, to: string): Promise<CapturedMail[]> {
  const res = await fetch(`${sim.url}/_sim/inbox.json?to=${encodeURIComponent(to)}`);
  return ((await res.json()) as { messages: CapturedMail[] }).messages;
}
