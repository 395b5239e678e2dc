// What every benchmark starts: the provider simulator and an in-memory offline runtime given the
// same env `npm run backend` gives the functions (dev/env.ts), pointed at that simulator. Each
// run gets its own data dir, removed again by close(). startBenchStack keeps the simulator in the
// benchmark's process (its config is then reachable as an object); startIsolatedBenchStack runs
// it in a child process, for benchmarks that time the runtime against it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { devEnv } from "../dev/env.ts";
import type { Runtime } from "../dev/runtime/server.ts";
import { RUNTIME_NODE_FLAGS } from "../dev/runtime/nodeFlags.ts";
import { startSimulator, type RunningSimulator } from "../dev/simulator/server.ts";
import { writeSections } from "./docs.ts";

/** A process the benchmark started, reachable at `url`. */
export interface BenchProcess {
  url: string;
  /** Its process id (for CPU accounting, say). */
  pid: number;
  close(): Promise<void>;
}

export interface BenchStack<Sim extends { url: string; close(): Promise<void> } = RunningSimulator> {
  runtime: Runtime;
  sim: Sim;
  /** The env the runtime's functions got (webhook secrets, price ids...). */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface StackOptions {
  /** Names the temp data dir: poindexter-bench-<name>-. */
  name: string;
  /** X-Forwarded-For as the client IP (dev/runtime/README.md, "Request metadata"). */
  trustForwardedFor?: boolean;
  /** Overrides on top of the development env. */
  env?: (simulatorUrl: string) => Record<string, string>;
}

/** The simulator in this process, and the runtime. */
export async function startBenchStack(opts: StackOptions): Promise<BenchStack> {
  return await withRuntime(opts, await startSimulator({ port: 0, useEnv: false }));
}

/** The offline runtime in a child process (dev/runtime/standalone.ts). */
export interface RuntimeProcess extends BenchProcess {
  urls: { cloud: string; site: string };
  adminKey: string;
}

/**
 * The simulator and the runtime each in a child process of their own: neither shares an event
 * loop with the other or with the benchmark's load generator, and each one's CPU time can be
 * read apart (`processCpuMs`). Configure the simulator over HTTP (`/_sim/config`); read the
 * runtime's counters from `/_dev/metrics`.
 */
export async function startIsolatedBenchStack(opts: StackOptions): Promise<{
  runtime: RuntimeProcess;
  sim: BenchProcess;
  env: Record<string, string>;
  close(): Promise<void>;
}> {
  const sim = await startSimulatorProcess();
  return await withDataDir(opts, sim, (dataDir, env) => startRuntimeProcess({ dataDir, env, trustForwardedFor: opts.trustForwardedFor ?? false }));
}

/**
 * A fresh data dir and the dev env pointed at `sim`, the runtime `start` makes from them, and one
 * teardown (runtime, simulator, dir) for the result and for a runtime that failed to start.
 */
async function withDataDir<Sim extends { url: string; close(): Promise<void> }, Runtime extends { close(): Promise<void> }>(
  opts: StackOptions,
  sim: Sim,
  start: (dataDir: string, env: Record<string, string>) => Promise<Runtime>,
): Promise<{ runtime: Runtime; sim: Sim; env: Record<string, string>; close(): Promise<void> }> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `poindexter-bench-${opts.name}-`));
  try {
    const env = { ...devEnv(dataDir, sim.url, "http://127.0.0.1:5173"), ...opts.env?.(sim.url) };
    const runtime = await start(dataDir, env);
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
  } catch (error) {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

async function startRuntimeProcess(options: { dataDir: string; env: Record<string, string>; trustForwardedFor: boolean }): Promise<RuntimeProcess> {
  const entry = path.resolve(import.meta.dirname, "../dev/runtime/standalone.ts");
  // The functions' env is built as in this process: the shell's variables under `options.env`.
  const runtimeOptions = { ...options, persist: false, readEnvLocal: false, quiet: true };
  const started = await startChild(
    "The offline runtime",
    [...RUNTIME_NODE_FLAGS, "--import", "tsx", entry],
    { ...process.env, RUNTIME_OPTIONS: JSON.stringify(runtimeOptions) },
    (output) => {
      const line = /^runtime ready (\{.*\})$/m.exec(output);
      return line ? (JSON.parse(line[1]) as { cloud: string; site: string; adminKey: string }) : null;
    },
  );
  const { cloud, site, adminKey } = started.ready;
  return { url: cloud, pid: started.pid, close: started.close, urls: { cloud, site }, adminKey };
}

async function withRuntime<Sim extends { url: string; close(): Promise<void> }>(opts: StackOptions, sim: Sim): Promise<BenchStack<Sim>> {
  return await withDataDir(opts, sim, async (dataDir, env) => {
    // Imported lazily so runs against an external backend (BENCH_URL) never load the runtime.
    const { startRuntime } = await import("../dev/runtime/server.ts");
    return await startRuntime({
      port: 0,
      sitePort: 0,
      persist: false,
      readEnvLocal: false,
      quiet: true,
      dataDir,
      trustForwardedFor: opts.trustForwardedFor ?? false,
      env,
    });
  });
}

const live = new Set<ChildProcess>();
// A benchmark that fails or is interrupted must not leave its servers behind.
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts a child Node process running `args` and resolves once `ready` finds what it waits for
 * (a URL, say) in what the child printed so far (colors stripped), or rejects with its output
 * when it exits or takes over 30 s. `url` is `ready`'s answer when that is a string.
 */
export function startChild<T>(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  ready: (output: string) => T | null,
): Promise<BenchProcess & { ready: T }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    live.add(child);
    let output = "";
    let settled = false;
    const fail = (why: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(new Error(`${name} did not start (${why}). Its output:\n${output.slice(-2000)}`));
    };
    const timer = setTimeout(() => fail("no ready line within 30 s"), 30_000);
    const onData = (chunk: Buffer) => {
      if (settled) return;
      output += chunk.toString("utf8");
      // eslint-disable-next-line no-control-regex -- ANSI color codes start with ESC.
      const found = ready(output.replace(/\x1b\[[0-9;]*m/g, ""));
      if (found === null) return;
      settled = true;
      clearTimeout(timer);
      resolve({
        ready: found,
        url: typeof found === "string" ? found.replace(/\/+$/, "") : "",
        pid: child.pid!,
        close: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) {
              live.delete(child);
              return done();
            }
            child.once("exit", () => {
              live.delete(child);
              done();
            });
            child.kill("SIGTERM");
          }),
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code, signal) => {
      live.delete(child);
      fail(`exited with ${signal ?? code}`);
    });
  });
}

/**
 * The provider simulator in its own process (its CLI, `dev/simulator/server.ts`), so its work
 * never shares an event loop with the runtime or the load generator. It starts from its
 * default config: the SIMULATOR_* knobs of the shell are not passed on.
 */
export function startSimulatorProcess(): Promise<BenchProcess> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("SIMULATOR_")));
  const entry = path.resolve(import.meta.dirname, "../dev/simulator/server.ts");
  return startChild(
    "The provider simulator",
    ["--import", "tsx", entry],
    { ...env, SIMULATOR_PORT: "0", SIMULATOR_HOST: "127.0.0.1" },
    (output) => /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output)?.[1] ?? null,
  );
}

/**
 * CPU time (user + system) a process has used so far, in ms, from /proc (Linux); null elsewhere.
 * Differences over a phase give a server's CPU per request without profiling it.
 */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may contain spaces) start at field 3.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / CLOCK_TICKS_PER_SECOND : null;
  } catch {
    return null;
  }
}

/** USER_HZ: 100 on every Linux this runs on (the kernel's ABI fixes it for /proc). */
const CLOCK_TICKS_PER_SECOND = 100;

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
