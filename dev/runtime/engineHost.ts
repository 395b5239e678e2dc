// Host side of the engine: evaluates the bundle inside an EdgeVM (the same
// Web-standard globals Vercel's edge runtime and vitest's "edge-runtime"
// environment use) and wraps the JSON-only surface in typed calls.
import { SourceMap, createRequire } from "node:module";
import path from "node:path";
import { Script } from "node:vm";
// Before @edge-runtime/vm, which loads the primitives it patches.
import "./primitives.ts";
// Web streams without Node 20's transferable wrapper (plainStreams.ts).
import "./plainStreams.ts";
import { EdgeVM } from "@edge-runtime/vm";
import { convexToJson, jsonToConvex, type Value } from "convex/values";
import type { UserIdentity } from "convex/server";
import { buildBundle } from "./bundle.ts";
import { createHostFetch, type HostFetch } from "./hostFetch.ts";
import { functionsCrypto } from "./vmCrypto.ts";
import type { RequestMetadata } from "./requestMetadata.ts";
import type { ComponentMount } from "./componentMounts.ts";
import type { Engine, EngineHooks, FetchHandle } from "./vm/engine.ts";

const hostRequire = createRequire(import.meta.url);

export type CallKind = "query" | "mutation" | "action";

/** `readTables`: what the call read ("<componentPath>:<table>"), for subscription invalidation. */
export type CallResult = { readTables: string[]; logLines: string[]; journal: string | null } & (
  | { ok: true; value: Value }
  | { ok: false; message: string; data?: Value; dataJson?: unknown; stack?: string }
);

/** A Convex module that throws while it is being evaluated. */
export class ModuleLoadError extends Error {
  constructor(
    readonly udfPath: string,
    readonly reason: string,
    readonly originalStack: string,
  ) {
    super(`Failed to load the module of ${udfPath}: ${reason}`);
  }
}

export interface FunctionInfo {
  kind: CallKind | "httpAction";
  visibility: "public" | "internal";
}

export interface CronSpec {
  name: string;
  args: unknown[];
  schedule: Record<string, unknown> & { type: string };
}

export interface HostEngine {
  describe(udfPath: string): Promise<FunctionInfo | null>;
  /**
   * `journal`: from this subscription's previous run (pagination), or null.
   * `token`: remember this run's reads under it, so commits report when it is stale.
   * `request`: the client's IP and User-Agent (`ctx.meta.getRequestMetadata()`); null: none.
   */
  call(
    kind: CallKind,
    udfPath: string,
    args: unknown,
    identity: UserIdentity | null,
    journal?: string | null,
    token?: string | null,
    request?: RequestMetadata | null,
  ): Promise<CallResult>;
  /** Drops a subscription token's reads. */
  forget(token: string): void;
  runByPath(udfPath: string, argsJson: unknown): Promise<CallResult>;
  fetch(
    method: string,
    path: string,
    headers: [string, string][],
    body: Uint8Array | null,
    identity: UserIdentity | null,
    request?: RequestMetadata | null,
  ): FetchHandle;
  snapshot(): Promise<string>;
  restore(json: string): Promise<void>;
  lastCommitTs(): Promise<bigint>;
  crons(): Promise<Record<string, CronSpec>>;
  /** One mutation with a raw database ctx, run as the deployment (seeding, tests). */
  runInline(handler: (ctx: InlineCtx) => Promise<unknown>): Promise<void>;
  modules: string[];
  components: ComponentMount[];
  mapStack(stack: string): string;
  /** Cancels every pending timer of the functions (scheduled functions included). */
  stop(): void;
  /** Timers the functions have armed that have neither fired nor been cleared. */
  pendingTimers(): number;
}

/** The subset of a mutation ctx that host-side seeding code uses. */
export interface InlineCtx {
  db: {
    insert(table: string, doc: Record<string, unknown>): Promise<string>;
    patch(id: string, fields: Record<string, unknown>): Promise<void>;
    get(id: string): Promise<Record<string, unknown> | null>;
    query(table: string): {
      withIndex(name: string, range?: (q: any) => any): { first(): Promise<any>; collect(): Promise<any[]>; take(n: number): Promise<any[]> };
      collect(): Promise<any[]>;
    };
  };
}

export interface EngineOptions {
  functionsDir: string;
  env: Record<string, string>;
  hooks: EngineHooks;
}

const SCRIPT_NAME = "convex-functions.js";

/** Rewrites bundle positions in a stack trace to the original files (convex/users.ts:12:5). */
export function stackMapper(sourceMap: unknown): (stack: string) => string {
  if (!sourceMap) return (s) => s;
  // Parsed on the first stack that needs it: the parsed map of the whole bundle is millions of
  // small arrays, which every major garbage collection would otherwise walk for nothing while
  // no function has failed yet.
  let map: SourceMap | null = null;
  const pattern = new RegExp(`${SCRIPT_NAME.replace(".", "\\.")}:(\\d+):(\\d+)`, "g");
  return (stack) =>
    stack.replace(pattern, (whole, line: string, col: string) => {
      map ??= new SourceMap(sourceMap as ConstructorParameters<typeof SourceMap>[0]);
      const entry = map.findEntry(Number(line) - 1, Number(col) - 1) as {
        originalSource?: string;
        originalLine?: number;
        originalColumn?: number;
      };
      if (!entry?.originalSource) return whole;
      const file = path.relative(process.cwd(), entry.originalSource.replace(/^file:\/\//, ""));
      return `${file}:${(entry.originalLine ?? 0) + 1}:${(entry.originalColumn ?? 0) + 1}`;
    });
}

function parseResult(json: string, mapStack: (s: string) => string): CallResult {
  const r = JSON.parse(json);
  const readTables: string[] = r.readTables ?? [];
  const logLines: string[] = r.logLines ?? [];
  const journal: string | null = r.journal ?? null;
  if (r.ok) return { ok: true, value: jsonToConvex(r.value), readTables, logLines, journal };
  return {
    readTables,
    logLines,
    journal,
    ok: false,
    message: r.message,
    dataJson: r.data,
    data: r.data === undefined ? undefined : jsonToConvex(r.data),
    stack: r.stack ? mapStack(r.stack) : undefined,
  };
}

const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Timers of the functions' realm (scheduled functions, handlers' own timeouts), tracked
 * so a closed engine stops: otherwise a function scheduled before a reload would
 * still run against the old engine after the new one took over the data dir.
 */
function trackedTimers() {
  const live = new Set<NodeJS.Timeout>();
  // Node fires a timer longer than 2^31-1 ms (~24.8 days) after 1 ms. A function scheduled
  // further out (an identity's deletion after its 30-day retention) would run at once, find it
  // is early and schedule itself again, in a loop. Such timers are re-armed until they are due;
  // `chained` maps the handle the function got to the timer currently armed for it.
  const chained = new Map<NodeJS.Timeout, NodeJS.Timeout>();
  const globals = {
    setTimeout: (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const due = Date.now() + Math.max(0, Number(ms) || 0);
      const arm = (): NodeJS.Timeout => {
        const wait = Math.max(0, due - Date.now());
        const handle: NodeJS.Timeout = setTimeout(() => {
          live.delete(handle);
          if (wait > MAX_TIMER_MS) {
            chained.set(first, arm());
            return;
          }
          chained.delete(first);
          fn(...args);
        }, Math.min(wait, MAX_TIMER_MS));
        live.add(handle);
        return handle;
      };
      // Only read by the timers' callbacks, which run after this assignment.
      const first = arm();
      return first;
    },
    clearTimeout: (handle: NodeJS.Timeout | undefined) => {
      if (handle === undefined) return;
      const current = chained.get(handle) ?? handle;
      chained.delete(handle);
      live.delete(current);
      clearTimeout(current);
    },
    setInterval: (fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
      const handle = setInterval(fn, ms, ...args);
      live.add(handle);
      return handle;
    },
    clearInterval: (handle: NodeJS.Timeout | undefined) => {
      if (handle === undefined) return;
      live.delete(handle);
      clearInterval(handle);
    },
  };
  return {
    globals,
    clearAll() {
      for (const h of live) clearTimeout(h);
      live.clear();
    },
    pending: () => live.size,
  };
}

export async function createEngine({ functionsDir, env, hooks }: EngineOptions): Promise<HostEngine> {
  const timers = trackedTimers();
  const bundle = await buildBundle({ functionsDir });
  let hostFetch: HostFetch | null = null;
  const vm = new EdgeVM({
    extend: (context) => {
      // Convex functions see `process.env` (and nothing else of `process`).
      Object.assign(context, { process: { env: { ...env } } }, timers.globals);
      // Node's Web Crypto, with hashes computed without a thread-pool round trip (vmCrypto.ts).
      context.crypto = functionsCrypto();
      // Provider calls through Node's HTTP client; anything unusual through EdgeVM's fetch (hostFetch.ts).
      hostFetch = createHostFetch(context.fetch, context.Response, context.ReadableStream);
      context.fetch = hostFetch.fetch;
      return context;
    },
  });
  const script = new Script(bundle.code, { filename: SCRIPT_NAME });
  const factory = script.runInContext(vm.context) as (req: (id: string) => unknown) => void;
  factory(hostRequire);
  const ctx = vm.context as unknown as Record<string, unknown>;
  const make = ctx.__runtimeEngine as (h: EngineHooks) => Engine;
  delete ctx.__runtimeEngine;
  const engine = make(hooks);
  const mapStack = stackMapper(bundle.sourceMap);

  return {
    modules: bundle.modules,
    mapStack,
    stop: () => {
      timers.clearAll();
      hostFetch?.close();
    },
    pendingTimers: () => timers.pending(),
    components: bundle.components,
    async describe(udfPath) {
      try {
        return JSON.parse(await engine.describe(udfPath));
      } catch (e) {
        // The module threw while loading (an error at import time).
        throw new ModuleLoadError(udfPath, (e as Error).message, mapStack((e as Error).stack ?? String(e)));
      }
    },
    forget: (token) => engine.forget(token),
    async call(kind, udfPath, args, identity, journal = null, token = null, request = null) {
      return parseResult(
        await engine.call(
          kind,
          udfPath,
          JSON.stringify(args),
          identity ? JSON.stringify(identity) : null,
          journal,
          token,
          request ? JSON.stringify(request) : null,
        ),
        mapStack,
      );
    },
    async runByPath(udfPath, argsJson) {
      return parseResult(await engine.runByPath(udfPath, JSON.stringify(argsJson)), mapStack);
    },
    fetch(method, path, headers, body, identity, request = null) {
      return engine.fetch(
        method,
        path,
        headers,
        body,
        identity ? JSON.stringify(identity) : null,
        request ? JSON.stringify(request) : null,
      );
    },
    snapshot: () => engine.snapshot(),
    runInline: (handler) => engine.runInline(handler),
    restore: (json) => engine.restore(json),
    lastCommitTs: async () => BigInt(await engine.lastCommitTs()),
    async crons() {
      return JSON.parse(await engine.crons());
    },
  };
}

export { convexToJson };
