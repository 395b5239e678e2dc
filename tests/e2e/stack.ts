// Everything the browser tests talk to, on fresh ports with a throwaway data dir, so
// a developer's running `npm run dev` (ports 3210/3211/3220/5173, .data/) is untouched:
// the provider simulator, the offline Convex runtime and a Vite dev server for the SPA.
// Billing runs against the simulator's Stripe and Polar (dev/env.ts): checkout returns to this
// stack's SPA, and the simulator's signed webhooks go to this stack's backend.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createServer as createViteServer, type ViteDevServer } from "vite";
import { startRuntime, type Runtime } from "../../dev/runtime/server.ts";
import { startSimulator, type RunningSimulator } from "../../dev/simulator/server.ts";
import { devEnv, devSimulatorBilling } from "../../dev/env.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export interface Stack {
  /** The SPA, e.g. http://127.0.0.1:41234 */
  appUrl: string;
  /** Convex cloud URL (sync + HTTP function API). */
  convexUrl: string;
  /** Convex site URL (httpActions: dev sign-in, the AI proxy, the billing webhooks). */
  siteUrl: string;
  /** The provider simulator: hosted checkout and portal pages, `/_sim/*` controls. */
  simulator: RunningSimulator;
  adminKey: string;
  dataDir: string;
  runtime: Runtime;
  /** What the backend logged; printed only when a test fails, to keep passing runs quiet. */
  backendLog: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startStack(): Promise<Stack> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "poindexter-e2e-"));
  const backendLog: string[] = [];
  let simulator: RunningSimulator | undefined;
  let runtime: Runtime | undefined;
  let vite: ViteDevServer | undefined;
  const stop = async () => {
    await vite?.close().catch(() => undefined);
    await runtime?.close().catch(() => undefined);
    await simulator?.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    simulator = await startSimulator({ port: 0, useEnv: false });
    // The SPA's port is chosen first: checkout's return pages are built from APP_URL.
    const port = await freePort();
    const appUrl = `http://127.0.0.1:${port}`;
    runtime = await startRuntime({
      port: 0,
      sitePort: 0,
      dataDir,
      functionsDir: path.join(ROOT, "convex"),
      // devEnv carries billing as `npm run dev` has it: the plans' prices, the metered overage
      // prices (STRIPE_PRICE_*_OVERAGE_*) and the meter event names (STRIPE_/POLAR_METER_EVENT_*).
      // Every browser test signs in from 127.0.0.1: lift signup's per-IP limit (10 an hour)
      // for this stack only, so new accounts are not refused as a flood from one network.
      env: { ...devEnv(dataDir, simulator.url, appUrl), SIGNUP_IP_LIMIT_PER_HOUR: "1000" },
      readEnvLocal: false,
      persist: false,
      logger: {
        info: (msg) => backendLog.push(msg),
        error: (msg) => backendLog.push(`ERROR ${msg}`),
      },
    });

    // Webhooks to this backend (Telnyx's too), signed with the secrets devEnv gave it; then the
    // simulator's billing exactly as `npm run dev` configures it (dev/env.ts): the plans priced as
    // the plan sheet says ($50 and $250) and each plan's metered overage prices, so invoices
    // carry real amounts and overage reported on the meters is invoiced.
    simulator.connectWebhooks(runtime.urls.site);
    simulator.configure(devSimulatorBilling(runtime.urls.site));

    // Vite gives variables already in the environment priority over .env files,
    // so a developer's .env.local cannot point the tested SPA at another backend.
    process.env.VITE_CONVEX_URL = runtime.urls.cloud;
    process.env.VITE_CONVEX_SITE_URL = runtime.urls.site;
    delete process.env.VITE_CLERK_PUBLISHABLE_KEY;
    vite = await createViteServer({
      root: ROOT,
      configFile: path.join(ROOT, "vite.config.ts"),
      logLevel: "error",
      clearScreen: false,
      server: { port, strictPort: true, host: "127.0.0.1", hmr: false },
    });
    await vite.listen();
    return {
      appUrl,
      convexUrl: runtime.urls.cloud,
      siteUrl: runtime.urls.site,
      simulator,
      adminKey: runtime.adminKey,
      dataDir,
      runtime,
      backendLog,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
