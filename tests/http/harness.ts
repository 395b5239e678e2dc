// Shared setup for HTTP tests of the proxy: a convex-test backend whose httpActions the real
// `openai` SDK reaches through `t.fetch`, and the provider simulator as the upstream.
import OpenAI from "openai";
import { afterAll, beforeAll, beforeEach } from "vitest";
import type { Id } from "../../convex/_generated/dataModel";
import { DISPLAY_PREFIX_LENGTH } from "../../convex/model/apiKeySecrets";
import type { PlanId } from "../../convex/model/plans";
import { customer, eventsOf, holdsOf, newTest, type TestConvex, usageEvent } from "../../convex/test.setup";
import { devAiProviderEnv } from "../../dev/env";
import { startSimulator, type RunningSimulator } from "../../dev/simulator/server";

export const PROXY_ORIGIN = "http://proxy.test";

export function pathOf(url: string | URL | Request): string {
  const u = new URL(typeof url === "string" ? url : url instanceof URL ? url.href : url.url);
  return u.pathname + u.search;
}

/** A fetch that routes to the test backend's httpActions. */
export function proxyFetch(t: TestConvex): typeof fetch {
  return ((url: string | URL | Request, init?: RequestInit) => t.fetch(pathOf(url), init)) as typeof fetch;
}

export function clientFor(t: TestConvex, apiKey: string, extra: Partial<ConstructorParameters<typeof OpenAI>[0]> = {}) {
  return new OpenAI({ apiKey, baseURL: `${PROXY_ORIGIN}/v1`, fetch: proxyFetch(t), maxRetries: 0, ...extra });
}

/** The simulator as every AI provider (OpenAI, Anthropic, Gemini, ElevenLabs), keys set. */
export async function startUpstream(): Promise<RunningSimulator> {
  const sim = await startSimulator({ port: 0, useEnv: false });
  Object.assign(process.env, devAiProviderEnv(sim.url, "proxy"));
  return sim;
}

/**
 * The hooks every convex-test HTTP file repeats: the simulator as upstream for the whole file,
 * reset before each test, and a fresh test backend per test. `prepare` runs between the two
 * (env stubs, module-level state resets) so the backend sees it. The file keeps its own `sim`
 * and `t` variables through the setters.
 */
export function useUpstream(
  bind: { sim?: (sim: RunningSimulator) => void; t: (t: TestConvex) => void },
  prepare?: () => void,
): void {
  let sim: RunningSimulator | undefined;
  beforeAll(async () => {
    sim = await startUpstream();
    bind.sim?.(sim);
  });
  afterAll(async () => {
    await sim?.close();
  });
  beforeEach(() => {
    sim!.reset();
    prepare?.();
    bind.t(newTest());
  });
}

export interface Account {
  userId: Id<"users">;
  keyId: Id<"apiKeys">;
  secret: string;
  prefix: string;
}

export async function account(
  t: TestConvex,
  email: string,
  opts: { plan?: PlanId; state?: "trial" | "active" | "suspended" | "canceled" | "past_due" } = {},
): Promise<Account> {
  const { userId, keyId, secret } = await customer(t, opts.plan ?? "trial", email);
  if (opts.state) await t.run(async (ctx) => ctx.db.patch("users", userId, { state: opts.state }));
  return { userId, keyId, secret, prefix: secret.slice(0, DISPLAY_PREFIX_LENGTH) };
}

export { eventsOf, holdsOf, usageEvent };

/** Polls until `check` returns a value (settles of abandoned streams finish after the client left). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 10_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

export { newTest };
export type { TestConvex };
