/**
 * The soak test's two processes: the provider simulator (bench/stack.ts startSimulatorProcess)
 * and the offline runtime in a child process that persists to a data dir and listens on fixed
 * ports, so it can be stopped gracefully (SIGTERM: dev/runtime/drain.ts) and started again on
 * the same ports and data dir mid-traffic. Also reads the backend's tables from that data dir
 * once the last runtime has exited (the same snapshot + log replay the runtime boots from).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import net from "node:net";
import path from "node:path";
import type { DrainReport } from "../../dev/runtime/drain.ts";
import { RUNTIME_NODE_FLAGS } from "../../dev/runtime/nodeFlags.ts";
import { replay } from "../../dev/runtime/persistence.ts";

export interface SoakRuntime {
  urls: { cloud: string; site: string };
  adminKey: string;
  pid: number;
  /** When it printed its ready line (epoch ms). */
  readyAt: number;
  /** Everything it printed so far (errors of background functions land here). */
  output(): string;
  /** SIGTERM, then its drain report (null if it exited without one) and when it exited. */
  stop(): Promise<{ report: DrainReport | null; exitedAt: number; exitCode: number | null }>;
}

/** A free loopback port (bound and released at once; the runtime takes it right after). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface RuntimePlace {
  dataDir: string;
  port: number;
  sitePort: number;
  env: Record<string, string>;
  /** The drain's deadline (RUNTIME_DRAIN_MS). */
  drainMs: number;
}

/** Children still running: a soak that fails or hits its ceiling must not leave them behind. */
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/** Starts dev/runtime/standalone.ts on the place's ports and data dir, persisting. */
export function startRuntimeAt(place: RuntimePlace): Promise<SoakRuntime> {
  const entry = path.resolve(import.meta.dirname, "../../dev/runtime/standalone.ts");
  const options = {
    port: place.port,
    sitePort: place.sitePort,
    dataDir: place.dataDir,
    env: place.env,
    persist: true,
    readEnvLocal: false,
    quiet: true,
    // Each signup presents its own address (X-Forwarded-For): the per-IP signup limit is not the subject here.
    trustForwardedFor: true,
  };
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...RUNTIME_NODE_FLAGS, "--import", "tsx", entry], {
      env: { ...process.env, RUNTIME_OPTIONS: JSON.stringify(options), RUNTIME_DRAIN_MS: String(place.drainMs) },
      stdio: ["ignore", "pipe", "pipe"],
    });
    live.add(child);
    let output = "";
    let ready = false;
    const exited = new Promise<number>((done) => {
      child.once("exit", () => {
        live.delete(child);
        done(Date.now());
      });
    });
    const timer = setTimeout(() => {
      if (ready) return;
      child.kill("SIGKILL");
      reject(new Error(`The offline runtime did not start within 60 s. Its output:\n${output.slice(-2000)}`));
    }, 60_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString("utf8");
      if (output.length > 1_000_000) output = output.slice(-200_000);
      if (ready) return;
      const line = /^runtime ready (\{.*\})$/m.exec(output);
      if (!line) return;
      ready = true;
      clearTimeout(timer);
      const urls = JSON.parse(line[1]) as { cloud: string; site: string; adminKey: string };
      resolve({
        urls: { cloud: urls.cloud, site: urls.site },
        adminKey: urls.adminKey,
        pid: child.pid!,
        readyAt: Date.now(),
        output: () => output,
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          const exitedAt = await exited;
          const drained = /^runtime drained (\{.*\})$/m.exec(output);
          return { report: drained ? (JSON.parse(drained[1]) as DrainReport) : null, exitedAt, exitCode: child.exitCode };
        },
      });
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    void exited.then(() => {
      if (!ready) {
        clearTimeout(timer);
        reject(new Error(`The offline runtime exited before it was ready. Its output:\n${output.slice(-2000)}`));
      }
    });
  });
}

/** The database a runtime would boot from this data dir: snapshot.json, then log.jsonl replayed. */
function loadDataDir(dataDir: string) {
  const snapshotFile = path.join(dataDir, "snapshot.json");
  const logFile = path.join(dataDir, "log.jsonl");
  const snapshot = existsSync(snapshotFile) ? JSON.parse(readFileSync(snapshotFile, "utf8")) : null;
  const log = existsSync(logFile) ? readFileSync(logFile, "utf8") : "";
  return replay(snapshot, log);
}

/** Documents of the app and of every component: the `restored <n> documents` a runtime logs at boot. */
export function documentTotal(dataDir: string): number {
  return (loadDataDir(dataDir)?.components ?? []).reduce((n, c) => n + c.documents.length, 0);
}

/** Every document of the app's tables, from the data dir a stopped runtime left. */
export function readTables(dataDir: string): Map<string, Record<string, unknown>[]> {
  const merged = loadDataDir(dataDir);
  const tables = new Map<string, Record<string, unknown>[]>();
  const app = merged?.components.find((c) => c.path === "");
  for (const doc of (app?.documents ?? []) as Record<string, unknown>[]) {
    const table = String(doc._id).replace(/^[0-9]+/, "");
    tables.set(table, [...(tables.get(table) ?? []), doc]);
  }
  return tables;
}
