// The stack every runtime-backed HTTP test starts: the provider simulator, then the offline
// runtime (real scheduler, workpool, crons) in a fresh temp dir with an env that points at the
// simulator. One place to start it, seed accounts through `internal.cli.*` and tear it down, so
// the test files keep only what they check.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName, type FunctionReference } from "convex/server";
import { api, internal } from "../../convex/_generated/api.js";
import type { PlanId } from "../../convex/model/plans";
import { startRuntime, type Runtime } from "../../dev/runtime/server";
import { startSimulator, type RunningSimulator, type SimulatorOptions } from "../../dev/simulator/server";

/** What an env builder may point at: the stack's data dir and the simulator's origin. */
export interface StackPlaces {
  dir: string;
  simUrl: string;
}

export interface RuntimeStackOptions {
  /** Prefix of the temp dir, so a leftover dir names the test that made it. */
  name: string;
  /** The runtime's env; built after the simulator is up, since most values name its URL. */
  env: (places: StackPlaces) => Record<string, string>;
  /** Knobs for the simulator; it always listens on a free port and ignores the process env. */
  simulator?: Omit<SimulatorOptions, "port" | "useEnv">;
}

export interface RuntimeStack {
  sim: RunningSimulator;
  rt: Runtime;
  dir: string;
  /** The runtime's HTTP actions origin (`/v1/...`, `/oauth/...`). */
  site: string;
  /** Calls a Convex function as admin, by reference rather than by path string. */
  run(kind: "query" | "mutation" | "action", fn: FunctionReference<"query" | "mutation" | "action", "public" | "internal">, args?: Record<string, unknown>): Promise<unknown>;
  /** Creates an account (the CLI's default plan unless one is given); no key. */
  createAccount(email: string, plan?: PlanId): Promise<void>;
  /** Creates an account and an API key for it; the key's secret is only ever returned here. */
  account(email: string, plan?: PlanId): Promise<{ secret: string }>;
  /**
   * Signs a person in as the SPA does with the dev issuer (a token from the deployment's own
   * POST /dev-auth/token, DEV_AUTH=true in the env) and runs the post-sign-in `ensure`; the client
   * then calls public functions as that person.
   */
  signIn(email: string): Promise<ConvexHttpClient>;
  /**
   * Resolves once the runtime has run none of the app's functions for `quietMs` (background work
   * such as a new paid account's identity provisioning has drained), so a test that counts calls
   * around one request counts only that request's. Throws after `timeoutMs`.
   */
  quiescent(options?: { quietMs?: number; timeoutMs?: number }): Promise<void>;
  /** Stops the runtime, then the simulator, then removes the temp dir. */
  close(): Promise<void>;
}

export async function startRuntimeStack(options: RuntimeStackOptions): Promise<RuntimeStack> {
  const sim = await startSimulator({ ...options.simulator, port: 0, useEnv: false });
  const dir = mkdtempSync(path.join(tmpdir(), `${options.name}-`));
  let rt: Runtime;
  try {
    rt = await startRuntime({
      port: 0,
      sitePort: 0,
      dataDir: dir,
      persist: false,
      readEnvLocal: false,
      quiet: true,
      env: options.env({ dir, simUrl: sim.url }),
    });
  } catch (err) {
    // A runtime that did not start must not leave the simulator's port or the dir behind.
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  const run: RuntimeStack["run"] = (kind, fn, args = {}) => rt.run(kind, getFunctionName(fn), args);
  const createAccount = async (email: string, plan?: PlanId) => {
    await run("mutation", internal.cli.createAccount, { email, ...(plan ? { plan } : {}) });
  };
  return {
    sim,
    rt,
    dir,
    site: rt.urls.site,
    run,
    createAccount,
    async account(email, plan) {
      await createAccount(email, plan);
      const key = (await run("mutation", internal.cli.createApiKey, { email })) as { secret: string };
      return { secret: key.secret };
    },
    async signIn(email) {
      const res = await fetch(`${rt.urls.site}/dev-auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, role: "user" }),
      });
      if (!res.ok) throw new Error(`dev-auth/token answered ${res.status}: ${await res.text()}`);
      const { token } = (await res.json()) as { token: string };
      const client = new ConvexHttpClient(rt.urls.cloud);
      client.setAuth(token);
      await client.mutation(api.signup.account.ensure, {});
      return client;
    },
    async quiescent({ quietMs = 1500, timeoutMs = 60_000 } = {}) {
      const total = () => Object.values(rt.metrics().appFunctionCalls).reduce((a, b) => a + b, 0);
      const deadline = Date.now() + timeoutMs;
      let last = total();
      let quietSince = Date.now();
      while (Date.now() - quietSince < quietMs) {
        if (Date.now() > deadline) throw new Error(`the runtime was still busy after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
        const now = total();
        if (now !== last) {
          last = now;
          quietSince = Date.now();
        }
      }
    },
    async close() {
      await rt.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
