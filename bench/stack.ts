// What every benchmark starts: the provider simulator and an in-memory offline runtime given the
// same env `npm run backend` gives the functions (dev/env.ts), pointed at that simulator. Each
// run gets its own data dir, removed again by close().
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { devEnv } from "../dev/env.ts";
import type { Runtime } from "../dev/runtime/server.ts";
import { startSimulator, type RunningSimulator } from "../dev/simulator/server.ts";
import { writeSections } from "./docs.ts";

export interface BenchStack {
  runtime: Runtime;
  sim: RunningSimulator;
  /** The env the runtime's functions got (webhook secrets, price ids...). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export async function startBenchStack(opts: {
  /** Names the temp data dir: poindexter-bench-<name>-. */
  name: string;
  /** X-Forwarded-For as the client IP (dev/runtime/README.md, "Request metadata"). */
  trustForwardedFor?: boolean;
  /** Overrides on top of the development env. */
  env?: (simulatorUrl: string) => Record<string, string>;
}): Promise<BenchStack> {
  const sim = await startSimulator({ port: 0, useEnv: false });
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `poindexter-bench-${opts.name}-`));
  // Imported lazily so runs against an external backend (BENCH_URL) never load the runtime.
  const { startRuntime } = await import("../dev/runtime/server.ts");
  const env = { ...devEnv(dataDir, sim.url, "http://127.0.0.1:5173"), ...opts.env?.(sim.url) };
  const runtime = await startRuntime({
    port: 0,
    sitePort: 0,
    persist: false,
    readEnvLocal: false,
    quiet: true,
    dataDir,
    trustForwardedFor: opts.trustForwardedFor ?? false,
    env,
  });
  return {
    runtime,
    sim,
    env,
    async close() {
      await runtime.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A whole-number setting from the environment (BENCH_*), or `fallback`; a clear error otherwise. */
export function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a non-negative integer, got "${raw}".`);
  return value;
}

/** Writes the report's section(s) into docs/benchmarks.md; the other benchmarks' figures stay. */
export function publishReport(report: string): void {
  const file = path.resolve(import.meta.dirname, "../docs/benchmarks.md");
  writeSections(file, report);
  console.log(`\nWrote ${path.relative(process.cwd(), file)}`);
}

/** Runs a benchmark's main and exits: 0 when it finished, 1 with its error otherwise. */
export function runBenchmark(name: string, main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`\n${name} failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
