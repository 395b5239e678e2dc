// startRuntime(): the offline Convex deployment. Cloud port (default 3210): the
// WebSocket sync protocol and the HTTP function API. Site port (default 3211):
// httpActions. See dev/runtime/README.md.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { WebSocketServer } from "ws";
import type { UserIdentity } from "convex/server";
import { DEFAULT_PORTS, readEnvLocal, setting } from "../env.ts";
import { JwtVerifier, loadAuthProviders } from "./auth.ts";
import { startCrons, type CronRunner } from "./crons.ts";
import { Deployment, type Caller, type Logger } from "./deployment.ts";
import { drainServers, InFlight, startingResponse, type DrainOptions, type DrainReport } from "./drain.ts";
import { createEngine, type CallKind, type HostEngine } from "./engineHost.ts";
import { Persistence } from "./persistence.ts";
import { requestMetadataOf } from "./requestMetadata.ts";
import { SyncHub } from "./sync.ts";

export interface RuntimeOptions {
  /** Cloud port (sync + HTTP API). 0 picks a free port. Default CONVEX_PORT or 3210. */
  port?: number;
  /** Site port (httpActions). 0 picks a free port. Default CONVEX_SITE_PORT or 3211. */
  sitePort?: number;
  /** Default CONVEX_DATA_DIR or .data/convex. */
  dataDir?: string;
  /** Directory of the Convex functions. Default convex/. */
  functionsDir?: string;
  /** Extra env for the functions (wins over .env.local and the process env). */
  env?: Record<string, string>;
  /** Defaults for the functions' env (lose to .env.local and the process env). */
  defaultEnv?: Record<string, string>;
  /** Read .env.local from the working directory (default true). */
  readEnvLocal?: boolean;
  /** Keep data only in memory (tests). */
  persist?: boolean;
  host?: string;
  logger?: Logger;
  quiet?: boolean;
  /** Sorted index structures for withIndex (default true; false only to measure convex-test's scans). */
  sortedIndexes?: boolean;
  /**
   * Dev only, for load tests and benchmarks (every local client is 127.0.0.1): report the
   * first X-Forwarded-For hop of the HTTP request or WebSocket upgrade as the client's IP in
   * `ctx.meta.getRequestMetadata()`, standing in for Convex's edge. Default false: the
   * socket's remote address, whatever the header says.
   */
  trustForwardedFor?: boolean;
}

export interface CallCounts {
  query: number;
  mutation: number;
  action: number;
  httpAction: number;
}

/** Cumulative counters since start (`GET /_dev/metrics`, `rt.metrics()`). */
export interface Metrics {
  /** Every execution by kind: the app's own functions and the components' together. */
  functionCalls: CallCounts;
  /** Executions of the app's own functions (`convex/`), nested `ctx.run*` calls included. */
  appFunctionCalls: CallCounts;
  /** Executions of component functions (the rate limiter's, the workpool's...). */
  componentFunctionCalls: CallCounts;
  /** Component executions by component path: `rateLimiter`, `providerPool`, `providerPool/batchWorker`... */
  componentCalls: Record<string, CallCounts>;
  documentsRead: number;
  documentsWritten: number;
  /**
   * Timers the functions have armed and that have neither fired nor been cleared (scheduled
   * functions, handlers' own timeouts), at the time of reading. A count that grows with traffic
   * is something held per request until its timer runs out.
   */
  pendingTimers: number;
}

const noCalls = (): CallCounts => ({ query: 0, mutation: 0, action: 0, httpAction: 0 });

export interface Runtime {
  urls: { cloud: string; site: string; sync: string };
  adminKey: string;
  adminKeyFile: string | null;
  dataDir: string;
  env: Record<string, string>;
  engine: HostEngine;
  metrics(): Metrics;
  /** Calls a function as the admin (internal functions allowed). */
  run(kind: CallKind, udfPath: string, args?: Record<string, unknown>): Promise<unknown>;
  /** Writes pending data to disk now. */
  flush(): Promise<void>;
  /**
   * Graceful shutdown's first half (drain.ts): stop accepting connections and crons, wait for
   * in-flight requests and the functions to finish. Call close() after it.
   */
  drain(options?: DrainOptions): Promise<DrainReport>;
  close(): Promise<void>;
}

export class RuntimeStartError extends Error {}

function consoleLogger(quiet: boolean): Logger {
  return {
    info: (msg) => {
      if (!quiet) console.log(`[convex] ${msg}`);
    },
    error: (msg) => console.error(`[convex] ${msg}`),
  };
}

function listen(server: http.Server, port: number, host: string, what: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EADDRINUSE") {
        reject(
          new RuntimeStartError(
            `Port ${port} (${what}) is already in use. Stop the other process (is \`npm run dev\` already running?) ` +
              `or pick another port with ${what === "cloud" ? "CONVEX_PORT" : "CONVEX_SITE_PORT"}.`,
          ),
        );
      } else reject(e);
    });
    server.listen(port, host, () => resolve((server.address() as AddressInfo).port));
  });
}

function adminKeyFor(dataDir: string, persist: boolean, env: Record<string, string | undefined>) {
  if (env.CONVEX_ADMIN_KEY) return { key: env.CONVEX_ADMIN_KEY, file: null };
  const file = path.join(dataDir, "admin_key");
  if (persist && existsSync(file)) return { key: readFileSync(file, "utf8").trim(), file };
  const key = `local|${randomBytes(32).toString("hex")}`;
  if (!persist) return { key, file: null };
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, file };
}

const CORS: Record<string, string> = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, POST, OPTIONS",
  "access-control-allow-headers": "content-type, authorization, convex-client",
};

function sendJson(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json", ...CORS });
  res.end(JSON.stringify(body));
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

const NOT_YET = Symbol("not yet");
/** Resolves after the pending I/O callbacks and microtasks: what is ready by then was ready at once. */
function nextTurn(): Promise<typeof NOT_YET> {
  return new Promise((resolve) => setImmediate(() => resolve(NOT_YET)));
}

/** A handler's Content-Length as a number, or null when it set none (or an unusable one). */
function declaredLength(value: string | string[] | undefined): number | null {
  if (typeof value !== "string" || !/^\d+$/.test(value)) return null;
  return Number(value);
}

function bufferOf(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export async function startRuntime(options: RuntimeOptions = {}): Promise<Runtime> {
  const host = options.host ?? "127.0.0.1";
  const envLocal = (options.readEnvLocal ?? true) ? readEnvLocal() : {};
  const port = options.port ?? Number(setting("CONVEX_PORT", envLocal) ?? DEFAULT_PORTS.convex);
  const sitePort = options.sitePort ?? Number(setting("CONVEX_SITE_PORT", envLocal) ?? DEFAULT_PORTS.site);
  const dataDir = path.resolve(options.dataDir ?? setting("CONVEX_DATA_DIR", envLocal) ?? ".data/convex");
  const functionsDir = path.resolve(options.functionsDir ?? "convex");
  const persist = options.persist ?? true;
  const log = options.logger ?? consoleLogger(options.quiet ?? false);
  const trustForwardedFor = options.trustForwardedFor ?? false;
  mkdirSync(dataDir, { recursive: true });

  const cloudServer = http.createServer();
  const siteServer = http.createServer();
  const inFlight = new InFlight([cloudServer, siteServer]);
  // The ports listen before the functions are loaded (a busy port fails fast). Until the
  // handlers below are attached, a request is answered 503 at once (drain.ts startingResponse)
  // instead of hanging: a restart on the same port takes requests for several seconds.
  cloudServer.on("request", startingResponse);
  siteServer.on("request", startingResponse);
  let actualPort: number;
  let actualSitePort: number;
  try {
    actualPort = await listen(cloudServer, port, host, "cloud");
    actualSitePort = await listen(siteServer, sitePort, host, "site");
  } catch (e) {
    cloudServer.close();
    siteServer.close();
    throw e;
  }
  const urls = {
    cloud: `http://${host}:${actualPort}`,
    site: `http://${host}:${actualSitePort}`,
    sync: `ws://${host}:${actualPort}/api/sync`,
  };

  const env: Record<string, string> = {
    ...options.defaultEnv,
    ...envLocal,
    // Empty shell variables count as unset, so they do not blank out a default.
    ...(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined && v !== "")) as Record<string, string>),
    ...options.env,
    CONVEX_CLOUD_URL: urls.cloud,
    CONVEX_SITE_URL: urls.site,
  };
  const admin = adminKeyFor(dataDir, persist, {
    CONVEX_ADMIN_KEY: options.env?.CONVEX_ADMIN_KEY ?? setting("CONVEX_ADMIN_KEY", envLocal),
  });

  // The counters; pendingTimers is read from the engine when metrics are asked for.
  const metrics: Omit<Metrics, "pendingTimers"> = {
    functionCalls: noCalls(),
    appFunctionCalls: noCalls(),
    componentFunctionCalls: noCalls(),
    componentCalls: {},
    documentsRead: 0,
    documentsWritten: 0,
  };
  const readMetrics = (): Metrics => ({ ...structuredClone(metrics), pendingTimers: engine.pendingTimers() });
  let currentTs = 0n;
  let closed = false;
  let hub: SyncHub | null = null;
  let persistence: Persistence | null = null;
  // Until the engine exists, stack traces stay as they are.
  let mapStack = (stack: string) => stack;
  const closeServers = () => {
    cloudServer.close();
    siteServer.close();
  };
  const engine = await createEngine({
    functionsDir,
    env,
    hooks: {
      sortedIndexes: options.sortedIndexes ?? true,
      recordChanges: persist,
      onCommit(ts, _tables, changes, invalidated) {
        // Work still finishing in a closed runtime must not reach the data dir, which
        // a restarted runtime may own by now.
        if (closed) return;
        const t = BigInt(ts);
        if (t > currentTs) currentTs = t;
        if (changes !== null) persistence?.record(changes);
        hub?.onCommit(invalidated);
      },
      onLog(level, text) {
        const line = mapStack(text);
        if (level === "error" || level === "warn") log.error(line);
        else log.info(line);
      },
      onCall(kind, component) {
        metrics.functionCalls[kind] += 1;
        if (component === "") {
          metrics.appFunctionCalls[kind] += 1;
          return;
        }
        metrics.componentFunctionCalls[kind] += 1;
        (metrics.componentCalls[component] ??= noCalls())[kind] += 1;
      },
      onRead(n) {
        metrics.documentsRead += n;
      },
      onWrite(n) {
        metrics.documentsWritten += n;
      },
    },
  }).catch((e) => {
    closeServers();
    throw e;
  });
  mapStack = engine.mapStack;
  if (persist) {
    persistence = new Persistence(dataDir, engine, log);
    try {
      const loaded = await persistence.load();
      if (loaded > 0) log.info(`restored ${loaded} documents from ${dataDir}`);
    } catch (e) {
      engine.stop();
      closeServers();
      throw new RuntimeStartError(`Could not load the data in ${dataDir}: ${(e as Error).message}`);
    }
  }
  // Clients remember the highest ts they saw; keep ours ahead of it across restarts.
  const restoredTs = await engine.lastCommitTs();
  if (restoredTs > currentTs) currentTs = restoredTs;
  const deployment = new Deployment(engine, log);

  let verifierPromise: Promise<JwtVerifier> | null = null;
  const verifier = () => (verifierPromise ??= loadAuthProviders(functionsDir, env).then((p) => new JwtVerifier(p)));

  hub = new SyncHub({ deployment, verifier, adminKey: admin.key, currentTs: () => currentTs, log });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 16 * 1024 * 1024 });
  cloudServer.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", urls.cloud);
    if (!/^\/api\/[^/]+\/sync$|^\/api\/sync$/.test(url.pathname)) {
      socket.destroy();
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => hub!.accept(ws, requestMetadataOf(req, trustForwardedFor)));
  });

  async function callerFrom(req: IncomingMessage): Promise<Caller> {
    const request = requestMetadataOf(req, trustForwardedFor);
    const header = req.headers.authorization;
    if (!header) return { identity: null, admin: false, request };
    const [scheme, ...rest] = header.split(" ");
    const value = rest.join(" ");
    if (scheme === "Convex") {
      if (value !== admin.key) throw new Error("The admin key is not valid for this deployment.");
      return { identity: null, admin: true, request };
    }
    if (scheme === "Bearer") return { identity: await (await verifier()).verify(value), admin: false, request };
    throw new Error(`Unsupported Authorization scheme "${scheme}".`);
  }

  cloudServer.off("request", startingResponse);
  siteServer.off("request", startingResponse);
  cloudServer.on("request", async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", urls.cloud);
      if (req.method === "OPTIONS") {
        res.writeHead(204, CORS);
        res.end();
        return;
      }
      if (url.pathname === "/_dev/metrics") return sendJson(res, 200, readMetrics());
      if (url.pathname === "/version") {
        res.writeHead(200, { "content-type": "text/plain" });
        res.end("offline-runtime");
        return;
      }
      if (url.pathname === "/api/query_ts") return sendJson(res, 200, { ts: String(currentTs) });
      const m = url.pathname.match(/^\/api\/(query|query_at_ts|mutation|action|function)$/);
      if (!m || req.method !== "POST") {
        return sendJson(res, 404, {
          code: "NotFound",
          message: `No route ${req.method} ${url.pathname}. The HTTP API is POST /api/query|mutation|action|function; httpActions are on ${urls.site}.`,
        });
      }
      let caller: Caller;
      try {
        caller = await callerFrom(req);
      } catch (e) {
        return sendJson(res, 401, { code: "Unauthenticated", message: (e as Error).message });
      }
      let body: { path?: string; args?: unknown; format?: string };
      try {
        body = JSON.parse((await readBody(req)).toString("utf8"));
      } catch {
        return sendJson(res, 400, { code: "BadJsonBody", message: "The request body must be JSON." });
      }
      if (typeof body.path !== "string") {
        return sendJson(res, 400, { code: "BadRequest", message: "The body needs a string `path`." });
      }
      const args = Array.isArray(body.args) ? (body.args[0] ?? {}) : (body.args ?? {});
      const kind = m[1] === "function" ? undefined : m[1] === "query_at_ts" ? "query" : (m[1] as CallKind);
      const r = await deployment.run(kind, body.path, args, caller);
      if (r.ok) return sendJson(res, 200, { status: "success", value: r.value, logLines: r.logLines });
      return sendJson(res, 560, { status: "error", errorMessage: r.errorMessage, errorData: r.errorData, logLines: r.logLines });
    } catch (e) {
      log.error(`HTTP API: ${(e as Error).stack ?? e}`);
      if (!res.headersSent) sendJson(res, 500, { code: "InternalError", message: (e as Error).message });
      else res.destroy();
    }
  });

  siteServer.on("request", async (req, res) => {
    let aborted = false;
    let handle: ReturnType<HostEngine["fetch"]> | null = null;
    // A client that goes away mid-response is an aborted request for the handler.
    res.on("close", () => {
      if (!res.writableFinished) {
        aborted = true;
        handle?.abort();
      }
    });
    try {
      const body = await readBody(req);
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      let identity: UserIdentity | null = null;
      const auth = req.headers.authorization;
      // Like the backend: a Bearer JWT from a configured issuer sets ctx.auth;
      // anything else (API keys) is left for the handler to read from the header.
      if (auth?.startsWith("Bearer ") && auth.split(".").length === 3) {
        identity = await (await verifier()).verify(auth.slice(7)).catch(() => null);
      }
      handle = engine.fetch(
        req.method ?? "GET",
        req.url ?? "/",
        headers,
        body.length ? new Uint8Array(body) : null,
        identity,
        requestMetadataOf(req, trustForwardedFor),
      );
      if (aborted) handle.abort();
      const response = await handle.response;
      const outHeaders: Record<string, string | string[]> = {};
      for (const [k, v] of response.headers) {
        const prev = outHeaders[k];
        outHeaders[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
      }
      // A body that is already there (a JSON reply) goes out with its headers in one write,
      // with a Content-Length. As soon as a chunk is not ready yet (a stream waiting on its
      // upstream), the headers and what came so far are sent, and the rest streams as it comes.
      // A handler that declared its body's length and has produced all of it (a JSON reply whose
      // usage is still being recorded, convex/proxy/respond.ts) is answered at once: the client
      // has its whole answer, and the stream's end (the function finishing) follows.
      const early: Buffer[] = [];
      const declared = declaredLength(outHeaders["content-length"]);
      let earlyBytes = 0;
      let done = response.whole !== null;
      if (response.whole !== null && response.whole.length > 0) early.push(bufferOf(response.whole));
      let next: Promise<{ done: boolean; value?: Uint8Array }> | null = null;
      while (!aborted && !done && (declared === null || earlyBytes < declared)) {
        const read = response.read();
        const chunk = await Promise.race([read, nextTurn()]);
        if (chunk === NOT_YET) {
          next = read;
          break;
        }
        if (chunk.done) {
          done = true;
          break;
        }
        if (chunk.value && chunk.value.length) {
          early.push(bufferOf(chunk.value));
          earlyBytes += chunk.value.length;
        }
      }
      if (aborted) {
        response.cancel();
        return;
      }
      const mayHaveBody = req.method !== "HEAD" && response.status !== 204 && response.status !== 304;
      if (done && mayHaveBody && !("content-length" in outHeaders) && !("transfer-encoding" in outHeaders)) {
        const body = early.length === 1 ? early[0] : Buffer.concat(early);
        outHeaders["content-length"] = String(body.length);
        res.writeHead(response.status, outHeaders);
        res.end(body);
        return;
      }
      res.cork();
      res.writeHead(response.status, outHeaders);
      res.flushHeaders();
      for (const b of early) res.write(b);
      res.uncork();
      // The client has its whole answer: what remains (the stream's end, where the proxy records
      // usage) is work nobody waits on, so it starts after the I/O already pending (requests
      // that arrived meanwhile start their own work first).
      if (!done && next === null && declared !== null && earlyBytes >= declared) await new Promise((r) => setImmediate(r));
      while (!aborted && !done) {
        const chunk = await (next ?? response.read());
        next = null;
        if (chunk.done) break;
        if (chunk.value && chunk.value.length) res.write(bufferOf(chunk.value));
      }
      if (aborted) response.cancel();
      else res.end();
    } catch (e) {
      if (aborted) return;
      log.error(`httpAction ${req.method} ${req.url} failed: ${engine.mapStack((e as Error).stack ?? String(e))}`);
      if (!res.headersSent) {
        res.writeHead(500, { "content-type": "text/plain" });
        res.end(`Internal Server Error: ${(e as Error).message}`);
      } else res.destroy();
    }
  });

  let crons: CronRunner | null = null;
  try {
    crons = await startCrons(engine, log);
  } catch (e) {
    log.error(`could not load crons: ${engine.mapStack((e as Error).stack ?? String(e))}`);
  }

  return {
    urls,
    adminKey: admin.key,
    adminKeyFile: admin.file,
    dataDir,
    env,
    engine,
    metrics: readMetrics,
    async run(kind, udfPath, args = {}) {
      const r = await deployment.run(kind, udfPath, args, { identity: null, admin: true });
      if (!r.ok) throw new Error(`${udfPath}: ${r.errorMessage}`);
      return r.value;
    },
    flush: async () => {
      await persistence?.flush();
    },
    async drain(drainOptions) {
      crons?.stop();
      const calls = () => Object.values(metrics.functionCalls).reduce((a, b) => a + b, 0);
      const report = await drainServers([cloudServer, siteServer], inFlight, calls, drainOptions);
      log.info(`drained: ${JSON.stringify(report)}`);
      return report;
    },
    async close() {
      if (closed) return;
      closed = true;
      crons?.stop();
      engine.stop();
      hub?.closeAll();
      wss.close();
      await persistence?.flush();
      const closing = Promise.all([
        new Promise<void>((r) => cloudServer.close(() => r())),
        new Promise<void>((r) => siteServer.close(() => r())),
      ]);
      cloudServer.closeAllConnections();
      siteServer.closeAllConnections();
      await closing;
    },
  };
}
