// `npm run dev`: the offline Convex runtime + the provider simulator + Vite, zero
// configuration. `npm run backend` (--no-vite) starts the first two only.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { DEFAULT_PORTS, devEnv } from "./env.ts";
import { seed } from "./seed.ts";
import { RuntimeStartError, startRuntime, type Runtime } from "./runtime/server.ts";

const noVite = process.argv.includes("--no-vite");
const dataDir = path.resolve(process.env.CONVEX_DATA_DIR ?? ".data/convex");
const simulatorPort = Number(process.env.SIMULATOR_PORT ?? DEFAULT_PORTS.simulator);
const vitePort = Number(process.env.VITE_PORT ?? DEFAULT_PORTS.vite);

let runtime: Runtime | null = null;
let simulator: { url: string; close(): Promise<void> | void } | null = null;
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
    startSimulator?: (o: { port: number }) => Promise<{ url: string; close(): Promise<void> | void }>;
  };
  if (typeof mod.startSimulator !== "function") {
    console.warn("[dev] dev/simulator/server.ts has no startSimulator export; running without it.");
    return null;
  }
  return mod.startSimulator({ port: simulatorPort });
}

async function main() {
  try {
    simulator = await startSimulatorIfPresent();
  } catch (e) {
    console.error(`[dev] the provider simulator did not start: ${(e as Error).message}`);
    return stop(1);
  }
  const simulatorUrl = simulator?.url ?? `http://127.0.0.1:${simulatorPort}`;
  try {
    // .env.local and the shell's env win over these defaults.
    runtime = await startRuntime({ dataDir, defaultEnv: devEnv(dataDir, simulatorUrl) });
  } catch (e) {
    if (e instanceof RuntimeStartError) console.error(`[dev] ${e.message}`);
    else console.error(`[dev] the Convex runtime did not start:\n${(e as Error).stack ?? e}`);
    return stop(1);
  }
  if (await seed(runtime.engine, runtime.urls.site)) {
    console.log("[dev] seeded demo accounts: trial@, basic@, support@, admin@poindexter.dev");
  }
  console.log("");
  console.log(`  Convex (sync + HTTP API)  ${runtime.urls.cloud}`);
  console.log(`  Convex site (httpActions) ${runtime.urls.site}`);
  console.log(`  Provider simulator        ${simulator ? simulator.url : "(not running)"}`);
  console.log(`  Data dir                  ${path.relative(process.cwd(), runtime.dataDir) || "."}`);
  console.log(`  Admin key                 ${runtime.adminKeyFile ? path.relative(process.cwd(), runtime.adminKeyFile) : "from CONVEX_ADMIN_KEY"}`);
  console.log(`  Metrics                   ${runtime.urls.cloud}/_dev/metrics`);

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
