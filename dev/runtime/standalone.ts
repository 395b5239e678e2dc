// The runtime alone in a process of its own, for tools that measure it from outside (the
// benchmarks: bench/stack.ts), so their load generator never shares its event loop:
//
//   RUNTIME_OPTIONS='{"dataDir": "...", "env": {...}}' node --import tsx dev/runtime/standalone.ts
//
// RUNTIME_OPTIONS is a JSON object of startRuntime options (ports default to 0: free ports;
// data in memory unless `persist` is true). Once it listens it prints one line,
// `runtime ready {"cloud": ..., "site": ..., "adminKey": ...}`; SIGTERM or SIGINT shut it down
// gracefully: no new connections, requests in flight and the functions finish (at most
// RUNTIME_DRAIN_MS, default 15000), data persisted, then it prints `runtime drained {...}`
// (drain.ts's report) and exits.
// RUNTIME_CPU_PROFILE=<file.cpuprofile> records a V8 CPU profile from start to close (open it in
// Chrome DevTools or VS Code); `node --cpu-prof` cannot be passed through NODE_OPTIONS.
// RUNTIME_CPU_PROFILE_INTERVAL_US sets its sampling interval (default V8's, about 1 ms; 100 shows
// the order of work inside one request).
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { startRuntime, type RuntimeOptions } from "./server.ts";

const READY = "runtime ready ";
const DRAINED = "runtime drained ";

function options(): RuntimeOptions {
  const raw = process.env.RUNTIME_OPTIONS ?? "{}";
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch (error) {
    throw new Error(`RUNTIME_OPTIONS is not JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error("RUNTIME_OPTIONS must be a JSON object of startRuntime options.");
  }
  return { port: 0, sitePort: 0, persist: false, readEnvLocal: false, quiet: true, ...(parsed as RuntimeOptions) };
}

async function startProfiler(file: string | undefined): Promise<(() => Promise<void>) | null> {
  if (!file) return null;
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  const interval = Number(process.env.RUNTIME_CPU_PROFILE_INTERVAL_US ?? "");
  if (Number.isInteger(interval) && interval > 0) await session.post("Profiler.setSamplingInterval", { interval });
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(file, JSON.stringify(profile));
  };
}

async function main(): Promise<void> {
  const stopProfiler = await startProfiler(process.env.RUNTIME_CPU_PROFILE);
  const runtime = await startRuntime(options());
  let closing = false;
  const stop = () => {
    if (closing) return;
    closing = true;
    const timeoutMs = process.env.RUNTIME_DRAIN_MS ? Number(process.env.RUNTIME_DRAIN_MS) : 15_000;
    void runtime
      .drain({ timeoutMs: Number.isFinite(timeoutMs) && timeoutMs >= 0 ? timeoutMs : 15_000 })
      .then(async (report) => {
        await runtime.close();
        console.log(DRAINED + JSON.stringify(report));
      })
      .then(() => stopProfiler?.())
      .then(
        () => process.exit(0),
        () => process.exit(1),
      );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  console.log(READY + JSON.stringify({ cloud: runtime.urls.cloud, site: runtime.urls.site, adminKey: runtime.adminKey }));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
