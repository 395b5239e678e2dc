// Runs INSIDE the EdgeVM, bundled together with convex-test and the app's modules.
// It exposes a small, JSON-only surface to the host (values cross the realm
// boundary as convexToJson strings, so no object identity or `instanceof` leaks
// between the two realms).
import { AsyncLocalStorage } from "node:async_hooks";
import * as ct from "convex-test";
import { TransactionMetricsTracker } from "convex-test/dist/transactionMetrics.js";
import { convexToJson, jsonToConvex } from "convex/values";
import { applyCommitted, installIndexes, resetIndexes } from "./indexes";
import { RUNTIME_KEYS } from "./runtimeKeys";

const internals = ct as any;

export type FunctionKind = "query" | "mutation" | "action" | "httpAction";

export interface EngineHooks {
  /**
   * After every top-level commit, with the commit timestamp (ns, decimal string), the
   * tables it wrote ("<componentPath>:<table>"), its changed documents for the log,
   * and the subscription tokens whose latest reads it overlaps.
   */
  onCommit(ts: string, tables: string[], changes: string | null, invalidated: string[]): void;
  /** One execution of a function; `component` is the component path, "" for the app's own. */
  onCall(kind: FunctionKind, component: string): void;
  onRead(count: number): void;
  onWrite(count: number): void;
  /** false: keep convex-test's table scans (only for measuring the difference). */
  sortedIndexes: boolean;
  /** console output of functions not called by a client (scheduler, crons, httpActions). */
  onLog?(level: "log" | "info" | "warn" | "error" | "debug", text: string): void;
  /** Pass each commit's changed documents to onCommit (JSON), for the write-ahead log. */
  recordChanges?: boolean;
}

export interface FetchHandle {
  abort(): void;
  response: Promise<{
    status: number;
    headers: [string, string][];
    /**
     * The whole body, when the handler built its Response from a string or bytes (a JSON
     * reply): nothing to stream, and no callbacks of the handler's run as it is read. Null: read().
     */
    whole: Uint8Array | null;
    read(): Promise<{ done: boolean; value?: Uint8Array }>;
    cancel(): void;
  }>;
}

export interface Engine {
  describe(udfPath: string): Promise<string>;
  call(
    kind: "query" | "mutation" | "action",
    udfPath: string,
    argsJson: string,
    identityJson: string | null,
    journal?: string | null,
    /** Remember this run's reads under this token (subscriptions). */
    token?: string | null,
    /** `{ip, userAgent}` of the client request, for `ctx.meta.getRequestMetadata()`. */
    requestJson?: string | null,
  ): Promise<string>;
  /** Drops a subscription token's reads. */
  forget(token: string): void;
  runByPath(udfPath: string, argsJson: string): Promise<string>;
  fetch(
    method: string,
    path: string,
    headers: [string, string][],
    body: Uint8Array | null,
    identityJson: string | null,
    requestJson?: string | null,
  ): FetchHandle;
  snapshot(): Promise<string>;
  restore(json: string): Promise<void>;
  /** Timestamp of the latest commit (ns, decimal string), also after a restore. */
  lastCommitTs(): Promise<string>;
  crons(): Promise<string>;
  /** Runs a host-supplied handler as one mutation with a raw `ctx` (seeding, tests). */
  runInline(handler: (ctx: any) => Promise<unknown>): Promise<void>;
}

type ModuleMap = Record<string, () => Promise<any>>;

interface EngineInput {
  schema: any;
  modules: ModuleMap;
  components: { name: string; register: (t: any, name: string) => void }[];
}

let hooks: EngineHooks | null = null;

/**
 * What a call read, like Convex's read sets: a document id, an index range, or a
 * whole table (scans and search). `c` is the component path.
 */
interface Read {
  c: string;
  table: string;
  id?: string;
  range?: unknown[];
}

interface ReadLog {
  /** "<componentPath>:<table>" of everything read. */
  tables: Set<string>;
  reads: Read[];
}

/** Reads of the call running in this async context. */
const readSet = new AsyncLocalStorage<ReadLog>();

/** Subscription token -> reads of its latest run; a commit invalidates overlapping ones. */
const subscriptions = new Map<string, Read[]>();

interface DocChange {
  c: string;
  table: string;
  id: string;
  before: unknown;
  after: unknown;
}
/** Document changes of the commit in progress (only kept while there are subscriptions). */
let docChanges: DocChange[] = [];

function recordRead(read: Read) {
  const log = readSet.getStore();
  if (!log) return;
  log.tables.add(`${read.c}:${read.table}`);
  log.reads.push(read);
}

function readOfQuery(c: string, query: any): Read {
  const source = query.source;
  const table = tableOfQuery(query);
  // A range read covers exactly the documents its bounds match; scans and search
  // conservatively cover the table.
  return source.type === "IndexRange" ? { c, table, range: source.range } : { c, table };
}

function overlaps(read: Read, change: DocChange): boolean {
  if (read.c !== change.c || read.table !== change.table) return false;
  if (read.id !== undefined) return read.id === change.id;
  if (read.range === undefined) return true;
  return [change.before, change.after].some(
    (doc) => doc !== null && read.range!.every((r) => internals.__evaluateRangeFilter(doc, r)),
  );
}
/** Tables written by the commit in progress. */
let writtenTables = new Set<string>();

/** One commit's effect on one component, as written to the persistence log. */
export interface ComponentChange {
  path: string;
  nextDocId: number;
  lastCreationTime: number;
  /** Document id -> its committed value (convexToJson), null when deleted. */
  docs: Record<string, unknown>;
}
let pendingChanges: ComponentChange[] = [];

/**
 * console output of the call running in this async context, as Convex logLines.
 * Timers (scheduled functions) inherit the context of the call that scheduled them,
 * so a finished call's collector is closed and later output goes to the console.
 */
const logLines = new AsyncLocalStorage<{ lines: string[]; open: boolean }>();

function formatArg(a: unknown, quoteStrings = true): string {
  if (typeof a === "string") return quoteStrings ? `'${a}'` : a;
  if (a instanceof Error) return a.stack ?? a.message;
  try {
    return typeof a === "object" && a !== null ? JSON.stringify(a) : String(a);
  } catch {
    return String(a);
  }
}

/**
 * Routes console output of client-called functions into logLines (the clients print
 * them as "[CONVEX Q(path)] [LOG] ..."); output of scheduled functions, crons and
 * httpActions goes straight to the runtime's console.
 */
function installConsole() {
  const base = globalThis.console;
  const tags: Record<string, string> = { log: "LOG", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };
  const proxy = Object.create(base);
  for (const [method, tag] of Object.entries(tags)) {
    proxy[method] = (...args: unknown[]) => {
      const store = logLines.getStore();
      if (store?.open) store.lines.push(`[${tag}] ${args.map((a) => formatArg(a)).join(" ")}`);
      else if (hooks?.onLog) hooks.onLog(method as "log", args.map((a) => formatArg(a, false)).join(" "));
      else (base as any)[method](...args);
    };
  }
  globalThis.console = proxy;
}

/**
 * Query journals, as Convex uses them for pagination: the first run of a paginated
 * query records where its page ended; later runs of the same subscription end the
 * page there (`endCursor`), so a page grows or shrinks with inserts and deletes
 * instead of shifting its boundaries.
 */
const journals = new AsyncLocalStorage<{ in: string | null; out: string | null; used: boolean }>();

/** The end cursor in a journal; a journal this runtime did not write pins nothing. */
function journalEnd(journal: string): string | null {
  try {
    const end = JSON.parse(journal)?.endCursor;
    return typeof end === "string" ? end : null;
  } catch {
    return null;
  }
}

function tableOfQuery(query: any): string {
  const source = query.source;
  return source.type === "FullTableScan" ? source.tableName : source.indexName.split(".")[0];
}

function kindOf(func: any): FunctionKind | null {
  if (func?.isQuery) return "query";
  if (func?.isMutation) return "mutation";
  if (func?.isAction) return "action";
  if (func?.isHttp) return "httpAction";
  return null;
}

/**
 * Counts executions by wrapping each registered function's handler once. Loads are
 * memoized: a module is evaluated once, and one that threw while loading keeps
 * failing with that same error.
 */
function countCalls(moduleMap: ModuleMap, component: string): ModuleMap {
  const wrapped = new WeakSet<object>();
  const out: ModuleMap = {};
  for (const [key, load] of Object.entries(moduleMap)) {
    let loaded: Promise<any> | null = null;
    out[key] = () => (loaded ??= loadAndWrap());
    const loadAndWrap = async () => {
      const mod = await load();
      for (const value of Object.values(mod)) {
        const kind = kindOf(value);
        if (kind === null || kind === "httpAction" || wrapped.has(value as object)) continue;
        const func = value as any;
        const handler = func._handler;
        if (typeof handler !== "function") continue;
        wrapped.add(func);
        func._handler = function (this: unknown, ...args: unknown[]) {
          hooks?.onCall(kind, component);
          return handler.apply(this, args);
        };
      }
      return mod;
    };
  }
  return out;
}

/**
 * convex-test serializes top-level transactions with a condition variable: when one ends,
 * every waiter wakes, one wins and the rest go back to sleep. With 64 requests queued that is
 * 64 wake-ups per transaction (work that grows with the square of the queue) and no order at
 * all, so an unlucky mutation could wait seconds while later ones went first. Here the lock is
 * a FIFO queue handed straight from one transaction to the next: the same isolation (one
 * top-level transaction at a time, nested ones inside it), first come first served.
 */
function installFifoTransactions() {
  const tm = internals.__TransactionManager.prototype;
  const held = Promise.resolve();
  const noop = () => {};
  const waiting = new WeakMap<object, (() => void)[]>();
  const queueOf = (manager: object) => {
    let queue = waiting.get(manager);
    if (queue === undefined) waiting.set(manager, (queue = []));
    return queue;
  };
  tm.begin = async function (this: any, isNested: boolean, transactionLimits: unknown) {
    if (!isNested) {
      // Taken when free; otherwise wait in line until the previous holder hands it over.
      if (this._waitOnCurrentFunction !== null) await new Promise<void>((resolve) => queueOf(this).push(resolve));
      else this._waitOnCurrentFunction = held;
      this._markTransactionDone = noop;
      this._metricsTracker = new TransactionMetricsTracker(this._limitsConfig);
    }
    const convex = internals.__convexGlobalStorage.getStore();
    if (!convex) throw new Error("No active convexTest context.");
    for (const component of Object.values(convex.components) as any[]) component.db.startTransaction();
    this._metricsTracker?.startTransaction(transactionLimits);
  };
  tm._endTransaction = function (this: any, isNested: boolean) {
    if (this._markTransactionDone === null) throw new Error("Transaction not started");
    if (isNested) return;
    this._metricsTracker = null;
    this._markTransactionDone = null;
    const next = queueOf(this).shift();
    // Still held: the next transaction in line owns it now.
    if (next !== undefined) next();
    else this._waitOnCurrentFunction = null;
  };
}

function installHooks(sortedIndexes: boolean) {
  installConsole();
  installFifoTransactions();
  const tm = internals.__TransactionManager.prototype;
  const commit = tm.commit;
  tm.commit = function (this: any, isNested: boolean) {
    const ts = commit.call(this, isNested);
    if (!isNested && ts !== null) {
      const tables = [...writtenTables];
      writtenTables = new Set();
      const changes = pendingChanges.length > 0 ? JSON.stringify({ ts: String(ts), components: pendingChanges }) : null;
      pendingChanges = [];
      const invalidated: string[] = [];
      for (const [token, reads] of subscriptions) {
        if (reads.some((read) => docChanges.some((change) => overlaps(read, change)))) invalidated.push(token);
      }
      docChanges = [];
      hooks?.onCommit(String(ts), tables, changes, invalidated);
    }
    return ts;
  };
  const db = internals.__DatabaseFake.prototype;
  const dbCommit = db.commit;
  db.commit = function (this: any, commitTs: unknown) {
    if (this._writes.length !== 1) return dbCommit.call(this, commitTs);
    const ids = Object.keys(this._writes[0]);
    for (const id of ids) writtenTables.add(`${this._componentPath}:${internals.__tableNameFromId(id)}`);
    const before = subscriptions.size > 0 ? ids.map((id) => this._documents[id] ?? null) : null;
    const result = dbCommit.call(this, commitTs);
    if (before !== null) {
      ids.forEach((id, i) =>
        docChanges.push({
          c: this._componentPath,
          table: internals.__tableNameFromId(id),
          id,
          before: before[i],
          after: this._documents[id] ?? null,
        }),
      );
    }
    if (hooks?.recordChanges && ids.length > 0) {
      const docs: Record<string, unknown> = {};
      for (const id of ids) {
        const doc = this._documents[id];
        docs[id] = doc === undefined ? null : convexToJson(doc);
      }
      pendingChanges.push({
        path: this._componentPath,
        nextDocId: this._nextDocId,
        lastCreationTime: this._lastCreationTime,
        docs,
      });
    }
    return result;
  };
  const get = db.get;
  db.get = function (this: any, tableName: string | undefined, id: string) {
    if (typeof id === "string") recordRead({ c: this._componentPath, table: tableName ?? internals.__tableNameFromId(id), id });
    return get.call(this, tableName, id);
  };
  const startQuery = db.startQuery;
  db.startQuery = function (this: any, query: any) {
    recordRead(readOfQuery(this._componentPath, query));
    return startQuery.call(this, query);
  };
  const paginate = db.paginate;
  db.paginate = function (this: any, args: any) {
    recordRead(readOfQuery(this._componentPath, args.query));
    const journal = journals.getStore();
    if (!journal || journal.used) return paginate.call(this, args);
    journal.used = true;
    const pinned = args.endCursor == null && journal.in !== null ? { ...args, endCursor: journalEnd(journal.in) } : args;
    const result = paginate.call(this, pinned);
    journal.out = JSON.stringify({ endCursor: result.continueCursor });
    return result;
  };
  const mt = (TransactionMetricsTracker as any).prototype;
  const trackRead = mt.trackRead;
  mt.trackRead = function (this: any, size: number) {
    hooks?.onRead(1);
    return trackRead.call(this, size);
  };
  const trackWrite = mt.trackWrite;
  mt.trackWrite = function (this: any, size: number) {
    hooks?.onWrite(1);
    return trackWrite.call(this, size);
  };
  // After the hooks above: the index patch wraps commit again and must see the
  // writes before they are applied.
  if (sortedIndexes) installIndexes();
}

function normalizeUdfPath(udfPath: string): string {
  const [file, name] = udfPath.split(":");
  return `${file.replace(/\.js$/, "")}:${name ?? "default"}`;
}

function errorResult(e: any, readTables: string[] = [], lines: string[] = [], journal: string | null = null): string {
  const isConvexError = e !== null && typeof e === "object" && Symbol.for("ConvexError") in e;
  return JSON.stringify({
    ok: false,
    message: e instanceof Error || (e && typeof e.message === "string") ? e.message : String(e),
    data: isConvexError && e.data !== undefined ? convexToJson(e.data) : undefined,
    stack: typeof e?.stack === "string" ? e.stack : undefined,
    readTables,
    logLines: lines,
    journal,
  });
}

const MAX_CACHED_ACCESSORS = 256;
const accessors = new WeakMap<object, Map<string, any>>();

/**
 * convex-test's accessor for one client call: its identity, and the client's IP and
 * User-Agent, which convex-test hands to the function and every nested call it makes, as
 * Convex does. Without request metadata (admin runs, seeding) both are null.
 */
function accessorFor(t: any, identityJson: string | null, requestJson: string | null = null) {
  // Accessors are immutable, and building one creates convex-test's whole set of call
  // closures; callers repeat (one client, one identity), so the latest few are kept.
  const key = `${identityJson ?? ""}\u0000${requestJson ?? ""}`;
  let cached = accessors.get(t)?.get(key);
  if (cached !== undefined) {
    // Most recently used last, so the oldest is the first to go.
    accessors.get(t)!.delete(key);
    accessors.get(t)!.set(key, cached);
    return cached;
  }
  const withIdentity = identityJson === null ? t : t.withIdentity(JSON.parse(identityJson));
  cached = requestJson === null ? withIdentity : withIdentity.withRequestMetadata(JSON.parse(requestJson));
  let byKey = accessors.get(t);
  if (byKey === undefined) accessors.set(t, (byKey = new Map()));
  byKey.set(key, cached);
  if (byKey.size > MAX_CACHED_ACCESSORS) byKey.delete(byKey.keys().next().value!);
  return cached;
}

export function startEngine(input: EngineInput) {
  (globalThis as any).__runtimeEngine = (h: EngineHooks): Engine => {
    hooks = h;
    return createEngine(input);
  };
}

/**
 * EdgeVM's Request/Response are implemented in the host realm, so their `.json()`
 * returned host-realm objects (`Object.getPrototypeOf(body) !== Object.prototype`),
 * unlike Convex, where a parsed body is an ordinary object. Parse in this realm.
 */
function parseJsonInThisRealm() {
  for (const C of [Request, Response]) {
    const text = C.prototype.text;
    Object.defineProperty(C.prototype, "json", {
      value: async function json(this: Body) {
        return JSON.parse(await text.call(this));
      },
      writable: true,
      configurable: true,
    });
  }
}

let responseState: symbol | null | undefined;
const TAKE_WHOLE_BODY = Symbol.for(RUNTIME_KEYS.takeWholeBody);
// dev/runtime/primitives.ts's factories and bundle.ts's __newHttpRequest.
const TRUSTED_REQUEST = Symbol.for(RUNTIME_KEYS.trustedRequest);
const TRUSTED_INIT = Symbol.for(RUNTIME_KEYS.trustedInit);
const HEADER_PAIRS = Symbol.for(RUNTIME_KEYS.headerPairs);

/**
 * A Response's body as bytes without reading its stream, when the Response was built from a
 * string or bytes (`new Response(text)`, `Response.json(...)`) and nothing has read it: undici
 * keeps that value as the body's `source` (in its internal state, the own symbol "state") and
 * only encodes it into the stream when read, so the bytes are the same. Streams, Blobs, FormData
 * and bodies already read or locked give null (the host reads them chunk by chunk).
 */
function sourceBytes(res: Response): Uint8Array | null {
  if (responseState === undefined) {
    responseState = Object.getOwnPropertySymbols(res).find((sym) => sym.description === "state") ?? null;
  }
  // A body whose stream was never made (dev/runtime/primitives.ts) hands over its bytes as they are.
  const lazy = responseState === null ? undefined : (res as any)[responseState]?.body;
  const take = lazy?.[TAKE_WHOLE_BODY];
  if (typeof take === "function") {
    const whole = take.call(lazy);
    if (whole !== null) return whole;
  }
  const body = res.body;
  if (body === null || res.bodyUsed || body.locked) return null;
  if (responseState === null) return null;
  const source = (res as any)[responseState]?.body?.source;
  if (typeof source === "string") return new TextEncoder().encode(source);
  if (source instanceof Uint8Array) return new Uint8Array(source);
  return null;
}

function createEngine({ schema, modules, components }: EngineInput): Engine {
  parseJsonInThisRealm();
  installHooks(hooks?.sortedIndexes ?? true);
  const rootModules = countCalls(modules, "");
  const t: any = internals.convexTest({ schema, modules: rootModules, transactionLimits: true });
  const registering = {
    ...t,
    registerComponent: (path: string, s: any, glob: ModuleMap) => t.registerComponent(path, s, countCalls(glob, path)),
  };
  for (const c of components) c.register(registering, c.name);

  const byPath = new Map<string, () => Promise<any>>();
  for (const [key, load] of Object.entries(rootModules)) {
    byPath.set(key.replace(/^\.\/convex\//, "").replace(/\.[^.]+$/, ""), load);
  }

  let convexGlobal: any = null;
  const globalReady: Promise<any> = t
    .run(async () => {
      convexGlobal = internals.__convexGlobalStorage.getStore();
      return null;
    })
    .then(() => convexGlobal);

  async function lookup(udfPath: string) {
    const [file, name] = normalizeUdfPath(udfPath).split(":");
    const load = byPath.get(file);
    if (!load) return null;
    const mod = await load();
    return mod[name] ?? null;
  }

  function inDeployment<T>(fn: () => T): T {
    return convexGlobal === null ? fn() : internals.__convexGlobalStorage.run(convexGlobal, fn);
  }

  function armScheduled(componentPath: string, db: any, job: any) {
    const g = convexGlobal;
    g.scheduler.timerScheduled();
    internals.__frameworkSetTimeout(() => {
      g.scheduler.timerFired();
      const promise = internals.__convexGlobalStorage
        .run(g, () =>
          internals.__runScheduledFunction({
            db,
            jobId: job._id,
            componentPath,
            functionPath: { udfPath: job.name, componentPath },
            args: job.args[0],
            name: job.name,
          }),
        )
        .finally(() => g.scheduler.finish(promise));
      g.scheduler.add(promise);
    }, Math.max(0, job.scheduledTime - Date.now()));
  }

  return {
    async describe(udfPath) {
      const func = await lookup(udfPath);
      const kind = kindOf(func);
      if (kind === null) return JSON.stringify(null);
      return JSON.stringify({ kind, visibility: func.isInternal ? "internal" : "public" });
    },

    forget(token) {
      subscriptions.delete(token);
    },

    async call(kind, udfPath, argsJson, identityJson, journalIn = null, token = null, requestJson = null) {
      const log: ReadLog = { tables: new Set(), reads: [] };
      const reads = log.tables;
      // Registered before the run: a commit that lands after this run's transaction
      // (before this call returns) is checked against the complete reads.
      if (token !== null) subscriptions.set(token, log.reads);
      const journal = { in: journalIn, out: null as string | null, used: false };
      const collector = { lines: [] as string[], open: true };
      const lines = collector.lines;
      try {
        const accessor = accessorFor(t, identityJson, requestJson);
        const fp = { udfPath: normalizeUdfPath(udfPath), componentPath: "" };
        const args = jsonToConvex(JSON.parse(argsJson));
        const value = await logLines.run(collector, () =>
          readSet.run(log, () => journals.run(journal, () => accessor[`${kind}FromPath`](fp, args))),
        );
        return JSON.stringify({
          ok: true,
          value: convexToJson(value === undefined ? null : value),
          readTables: [...reads],
          logLines: lines,
          journal: journal.out,
        });
      } catch (e) {
        return errorResult(e, [...reads], lines, journal.out);
      } finally {
        collector.open = false;
      }
    },

    async runByPath(udfPath, argsJson) {
      try {
        const value = await t.fun({ udfPath: normalizeUdfPath(udfPath), componentPath: "" }, jsonToConvex(JSON.parse(argsJson)));
        return JSON.stringify({ ok: true, value: convexToJson(value === undefined ? null : value) });
      } catch (e) {
        return errorResult(e);
      }
    },

    fetch(method, path, headers, body, identityJson, requestJson = null) {
      let abortRequest: () => void;
      const init: RequestInit & { [TRUSTED_INIT]?: unknown } = { method };
      if (typeof (Request as any)[TRUSTED_REQUEST] === "function") {
        // The Request takes the pairs as Node parsed them, and its own controller aborts it
        // (convex-test's t.fetch, patched: bundle.ts __newHttpRequest).
        let requestAbort: (() => void) | null = null;
        let abortedEarly = false;
        init[TRUSTED_INIT] = {
          headers,
          onRequest(abort: () => void) {
            requestAbort = abort;
            if (abortedEarly) abort();
          },
        };
        abortRequest = () => {
          if (requestAbort !== null) requestAbort();
          else abortedEarly = true;
        };
      } else {
        const controller = new AbortController();
        // The pairs as they are: convex-test builds the Request (and its Headers) from them once.
        init.headers = headers;
        init.signal = controller.signal;
        abortRequest = () => controller.abort();
      }
      if (body !== null && method !== "GET" && method !== "HEAD") init.body = new Uint8Array(body);
      const response = (async () => {
        hooks?.onCall("httpAction", "");
        const res: Response = await accessorFor(t, identityJson, requestJson).fetch(path, init);
        const whole = sourceBytes(res);
        const reader = whole === null && res.body ? res.body.getReader() : null;
        // What forEach gives, without its iterator (dev/runtime/primitives.ts); only read.
        const headerPairs = (Headers as any)[HEADER_PAIRS];
        let outHeaders: [string, string][];
        if (typeof headerPairs === "function") outHeaders = headerPairs(res.headers);
        else {
          outHeaders = [];
          res.headers.forEach((v, k) => outHeaders.push([k, v]));
        }
        return {
          status: res.status,
          headers: outHeaders,
          whole,
          // Stream callbacks (a TransformStream's flush that settles usage, say) run
          // when the host reads, so reads happen inside this deployment's context too.
          async read() {
            if (!reader) return { done: true };
            const { done, value } = await inDeployment(() => reader.read());
            if (done) return { done: true };
            const bytes = typeof value === "string" ? new TextEncoder().encode(value) : new Uint8Array(value);
            return { done: false, value: bytes };
          },
          cancel() {
            void inDeployment(() => reader?.cancel())?.catch(() => {});
          },
        };
      })();
      // The abort event reaches handler code (e.g. a listener that runs a mutation to
      // settle usage), so dispatch it inside this deployment's context.
      const abort = () => inDeployment(abortRequest);
      return { abort, response };
    },

    async snapshot() {
      const g = await globalReady;
      const components = Object.entries(g.components).map(([path, info]: [string, any]) => {
        const db = info.db;
        return {
          path,
          nextDocId: db._nextDocId,
          lastCreationTime: db._lastCreationTime,
          documents: Object.values(db._documents).map((d) => convexToJson(d as any)),
        };
      });
      return JSON.stringify({
        version: 1,
        lastCommitTs: String(g.transactionManager._lastCommitTs),
        components,
      });
    },

    async lastCommitTs() {
      const g = await globalReady;
      return String(g.transactionManager._lastCommitTs);
    },

    async restore(json) {
      const g = await globalReady;
      const snap = JSON.parse(json);
      if (snap.version !== 1) throw new Error(`Unsupported snapshot version ${snap.version}`);
      g.transactionManager._lastCommitTs = BigInt(snap.lastCommitTs);
      for (const c of snap.components) {
        const info = g.components[c.path];
        if (!info) {
          console.warn(`[runtime] snapshot has data for component "${c.path}", which is no longer mounted; skipped.`);
          continue;
        }
        const db = info.db;
        const docs: Record<string, any> = {};
        for (const d of c.documents) {
          const doc = jsonToConvex(d) as any;
          docs[doc._id] = doc;
        }
        db._documents = docs;
        db._nextDocId = c.nextDocId;
        db._lastCreationTime = c.lastCreationTime;
        resetIndexes(db);
        applyCommitted(db, {});
        // Scheduled functions survive a restart: pending ones get their timers back;
        // ones that were running when the process stopped are marked failed, as the
        // real scheduler does for an action interrupted mid-flight.
        for (const doc of Object.values(docs)) {
          if (internals.__tableNameFromId(doc._id) !== "_scheduled_functions") continue;
          if (doc.state?.kind === "pending") armScheduled(c.path, db, doc);
          else if (doc.state?.kind === "inProgress") {
            docs[doc._id] = { ...doc, state: { kind: "failed" }, completedTime: Date.now() };
          }
        }
      }
    },

    async runInline(handler) {
      await t.run(async (ctx: any) => {
        await handler(ctx);
        return null;
      });
    },

    async crons() {
      if (!byPath.has("crons")) return JSON.stringify({});
      const mod = await byPath.get("crons")!();
      const crons = mod.default?.crons;
      return JSON.stringify(crons ?? {});
    },
  };
}
