// `npm run dev`: the offline Convex runtime + the provider simulator + Vite, zero
// configuration. `npm run backend` (--no-vite) starts the first two only.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, watch } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_PORTS, devEnv, devSimulatorBilling, setting } from "./env.ts";
import type { RunningSimulator } from "./simulator/server.ts";
import { seed } from "./seed.ts";
import { buildBundle } from "./runtime/bundle.ts";
import { RuntimeStartError, startRuntime, type Runtime } from "./runtime/server.ts";

const noVite = process.argv.includes("--no-vite");
const dataDir = path.resolve(setting("CONVEX_DATA_DIR") ?? ".data/convex");
const simulatorPort = Number(setting("SIMULATOR_PORT") ?? DEFAULT_PORTS.simulator);
const vitePort = Number(setting("VITE_PORT") ?? DEFAULT_PORTS.vite);

let runtime: Runtime | null = null;
let simulator: RunningSimulator | null = null;
let vite: ChildProcess | null = null;
let stopping = false;

async function stop(code: number) {
  if (stopping) return;
  stopping = true;
  // Never hang on the way out: a stuck close still ends the process.
  setTimeout(() => process.exit(code), 3000).unref();
  if (vite && vite.exitCode === null) vite.kill("SIGTERM");
  await Promise.allSettled([runtime?.close(), simulator?.close()]);
  process.exit(code);
}
process.on("SIGINT", () => void stop(0));
process.on("SIGTERM", () => void stop(0));

async function startSimulatorIfPresent() {
  const file = path.resolve("dev/simulator/server.ts");
  if (!existsSync(file)) {
    console.warn("[dev] dev/simulator/server.ts not found; running without the provider simulator.");
    return null;
  }
  const mod = (await import(pathToFileURL(file).href)) as {
    startSimulator?: (o: { port: number }) => Promise<RunningSimulator>;
  };
  if (typeof mod.startSimulator !== "function") {
    console.warn("[dev] dev/simulator/server.ts has no startSimulator export; running without it.");
    return null;
  }
  return mod.startSimulator({ port: simulatorPort });
}

/**
 * Like `npx convex dev`: when a file in convex/ changes, the new code is bundled and,
 * if it builds, the runtime restarts on it (data is flushed and reloaded; clients
 * reconnect by themselves). A broken edit leaves the previous version running.
 */
function watchFunctions(start: () => Promise<Runtime>) {
  const functionsDir = path.resolve("convex");
  let timer: NodeJS.Timeout | null = null;
  let reloading: Promise<void> = Promise.resolve();
  const relevant = (file: string) =>
    /\.(ts|js|tsx|jsx|mjs)$/.test(file) && !/\.test\.[jt]sx?$/.test(file) && !/(^|[\\/])\.#|~$/.test(file);
  const reload = async () => {
    try {
      await buildBundle({ functionsDir });
    } catch (e) {
      console.error(`[dev] convex/ does not build; still running the previous version.\n${(e as Error).message}`);
      return;
    }
    try {
      await runtime?.close();
      runtime = null;
      runtime = await start();
      console.log("[dev] convex/ changed: functions reloaded");
    } catch (e) {
      console.error(`[dev] the runtime did not restart: ${(e as Error).stack ?? e}\n[dev] fix the error and save again.`);
    }
  };
  watch(functionsDir, { recursive: true }, (_event, file) => {
    if (stopping || !file || !relevant(String(file))) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      reloading = reloading.then(reload);
    }, 300);
  });
}

function shortPath(p: string) {
  const rel = path.relative(process.cwd(), p);
  return rel === "" ? "." : rel.startsWith("..") ? p : rel;
}

async function main() {
  try {
    simulator = await startSimulatorIfPresent();
  } catch (e) {
    console.error(`[dev] the provider simulator did not start: ${(e as Error).message}`);
    return stop(1);
  }
  const simulatorUrl = simulator?.url ?? `http://127.0.0.1:${simulatorPort}`;
  // .env.local and the shell's env win over these defaults.
  // CONVEX_TRUST_FORWARDED_FOR=1: load tests give each simulated client its own address
  // through X-Forwarded-For (dev only; see dev/runtime/README.md, "Request metadata").
  const trustForwardedFor = ["1", "true"].includes(setting("CONVEX_TRUST_FORWARDED_FOR") ?? "");
  const start = () => startRuntime({ dataDir, defaultEnv: devEnv(dataDir, simulatorUrl), trustForwardedFor });
  try {
    runtime = await start();
  } catch (e) {
    if (e instanceof RuntimeStartError) console.error(`[dev] ${e.message}`);
    else console.error(`[dev] the Convex runtime did not start:\n${(e as Error).stack ?? e}`);
    return stop(1);
  }
  // Checkout and the portal work end to end: the simulator prices the plans and delivers its
  // signed webhooks to this runtime.
  simulator?.configure(devSimulatorBilling(runtime.urls.site));
  if (await seed(runtime.engine, runtime.urls.site)) {
    console.log("[dev] seeded demo accounts: trial@, basic@, support@, admin@poindexter.dev");
  }
  console.log("");
  console.log(`  Convex (sync + HTTP API)  ${runtime.urls.cloud}`);
  console.log(`  Convex site (httpActions) ${runtime.urls.site}`);
  console.log(`  Provider simulator        ${simulator ? simulator.url : "(not running)"}`);
  console.log(`  Data dir                  ${shortPath(runtime.dataDir)}`);
  console.log(`  Admin key                 ${runtime.adminKeyFile ? shortPath(runtime.adminKeyFile) : "from CONVEX_ADMIN_KEY"}`);
  console.log(`  Metrics                   ${runtime.urls.cloud}/_dev/metrics`);
  if (trustForwardedFor) console.log("  Client IPs                from X-Forwarded-For (CONVEX_TRUST_FORWARDED_FOR)");
  watchFunctions(start);

  if (noVite) {
    console.log("");
    return;
  }
  console.log(`  App                       http://127.0.0.1:${vitePort}\n`);
  // Vite's own entry on this Node (no npx wrapper), so stopping it stops the server.
  const viteBin = path.join(path.dirname(createRequire(import.meta.url).resolve("vite/package.json")), "bin/vite.js");
  vite = spawn(process.execPath, [viteBin, "--host", "127.0.0.1", "--port", String(vitePort), "--strictPort"], {
    stdio: "inherit",
    env: {
      ...process.env,
      VITE_CONVEX_URL: runtime.urls.cloud,
      VITE_CONVEX_SITE_URL: runtime.urls.site,
    },
  });
  vite.on("exit", (code) => {
    if (!stopping) {
      console.error(`[dev] vite exited (${code}); stopping.`);
      void stop(code ?? 1);
    }
  });
}

void main();
