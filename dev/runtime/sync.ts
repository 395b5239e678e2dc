// The WebSocket sync endpoint (/api/<version>/sync). One SyncSession per socket
// holds the client's query set and identity; every transition it sends starts at
// the version the client last saw, so all of them go through one queue.
// Subscriptions are kept fresh like Convex does it: each run's read set (document
// ids, index ranges, whole tables for scans) is kept in the engine under the
// subscription's token; a commit that writes a document inside a read set (before or
// after the write) marks that subscription stale, and only stale subscriptions are
// re-run. Only results that changed are sent.
import { AsyncLocalStorage } from "node:async_hooks";
import type { WebSocket } from "ws";
import type { UserIdentity } from "convex/server";
import type { Caller, Deployment, Logger } from "./deployment.ts";
import { AuthTokenError, type JwtVerifier } from "./auth.ts";
import { encodeTs, encodeVersion, type QueryModification, type StateVersion } from "./protocol.ts";
import type { RequestMetadata } from "./requestMetadata.ts";

const PING_INTERVAL_MS = 15_000;
/** Replies to mutations remembered per client session, for replays after a reconnect. */
const REPLAY_CACHE_SIZE = 1000;

interface Subscription {
  udfPath: string;
  args: unknown;
  /** Names this subscription's reads in the engine. */
  token: string;
  /** Whether it has run at least once. */
  ran: boolean;
  /** Where the last run's page ended (paginated queries), from the client after a reconnect. */
  journal: string | null;
}

interface MutationReply {
  message: Record<string, unknown>;
  ts: bigint | null;
}

export interface SyncContext {
  deployment: Deployment;
  verifier: () => Promise<JwtVerifier>;
  adminKey: string;
  currentTs: () => bigint;
  log: Logger;
}

/** Mutation replies by client sessionId, shared across that session's reconnects. */
class ReplayCache {
  private sessions = new Map<string, Map<number, Promise<MutationReply>>>();

  get(sessionId: string, requestId: number) {
    return this.sessions.get(sessionId)?.get(requestId);
  }

  set(sessionId: string, requestId: number, reply: Promise<MutationReply>) {
    let m = this.sessions.get(sessionId);
    if (!m) this.sessions.set(sessionId, (m = new Map()));
    m.set(requestId, reply);
    if (m.size > REPLAY_CACHE_SIZE) m.delete(m.keys().next().value as number);
    // Keep the most recently active sessions only.
    this.sessions.delete(sessionId);
    this.sessions.set(sessionId, m);
    if (this.sessions.size > 10_000) this.sessions.delete(this.sessions.keys().next().value as string);
  }
}

export class SyncHub {
  private sessions = new Set<SyncSession>();
  readonly replays = new ReplayCache();
  constructor(readonly ctx: SyncContext) {}

  /** `request`: the IP and User-Agent of the upgrade request, for every call on this socket. */
  accept(ws: WebSocket, request: RequestMetadata) {
    const session = new SyncSession(ws, this, request);
    this.sessions.add(session);
    ws.on("close", () => {
      session.closed = true;
      session.forgetAll();
      this.sessions.delete(session);
    });
  }

  /**
   * The hub's own async context. A commit is reported from inside the committing function's
   * context, where convex-test keeps the execution context (component path, auth) in
   * AsyncLocalStorage; a refresh started there would re-run every subscription as a nested call
   * of that function. After a workpool component's commit that is a cross-component call, so
   * every user query failed as signed out. Refreshes start from here instead.
   */
  private readonly outside = AsyncLocalStorage.snapshot();

  /** Called after every commit with the subscription tokens it made stale. */
  onCommit(invalidated: string[]) {
    if (invalidated.length === 0) return;
    const stale = new Set(invalidated);
    this.outside(() => {
      for (const s of this.sessions) void s.scheduleRefresh(stale);
    });
  }

  closeAll() {
    for (const s of this.sessions) s.ws.terminate();
  }
}

let nextSessionUid = 1;

class SyncSession {
  closed = false;
  private readonly uid = nextSessionUid++;
  private sessionId = "";
  private version: StateVersion = { querySet: 0, identity: 0, ts: 0n };
  private queries = new Map<number, Subscription>();
  private lastSent = new Map<number, string>();
  private caller: Caller;
  private queue: Promise<void> = Promise.resolve();
  private inbound: Promise<void> = Promise.resolve();
  private refreshQueued = false;
  /** Tokens of subscriptions made stale since the last refresh started. */
  private dirty = new Set<string>();
  private ping: NodeJS.Timeout;

  constructor(
    readonly ws: WebSocket,
    private hub: SyncHub,
    // Like Convex: mutations and actions sent over the sync connection see the address
    // and User-Agent of the client that opened it.
    private readonly request: RequestMetadata,
  ) {
    this.caller = { identity: null, admin: false, request };
    this.ping = setInterval(() => this.send({ type: "Ping" }), PING_INTERVAL_MS);
    ws.on("close", () => clearInterval(this.ping));
    ws.on("message", (data) => {
      let msg: Record<string, unknown>;
      try {
        msg = JSON.parse(String(data));
      } catch {
        this.fatal("Could not parse the message as JSON.");
        return;
      }
      // Messages are taken in order (a Mutation after an Authenticate runs as the new
      // identity), but a slow mutation does not hold up the messages behind it.
      this.inbound = this.inbound
        .then(() => this.handle(msg))
        .catch((e) => {
          this.hub.ctx.log.error(`sync: ${(e as Error).stack ?? e}`);
          this.fatal(`Internal error: ${(e as Error).message}`);
        });
    });
  }

  private send(msg: Record<string, unknown>) {
    if (!this.closed && this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(msg));
  }

  private fatal(error: string) {
    this.send({ type: "FatalError", error });
    this.ws.close(1011, error.slice(0, 100));
  }

  /** Runs `task` after the queued ones; the returned promise never rejects. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    this.queue = this.queue.then(task).catch((e) => {
      this.hub.ctx.log.error(`sync: ${(e as Error).stack ?? e}`);
      this.fatal(`Internal error: ${(e as Error).message}`);
    });
    return this.queue;
  }

  private async handle(msg: Record<string, unknown>) {
    switch (msg.type) {
      case "Connect":
        this.sessionId = String(msg.sessionId);
        return;
      case "ModifyQuerySet":
        void this.enqueue(() => this.modifyQuerySet(msg));
        return;
      case "Authenticate":
        return this.authenticate(msg);
      case "Mutation":
        this.background(this.mutation(msg, this.caller));
        return;
      case "Action":
        this.background(this.action(msg, this.caller));
        return;
      case "Event":
        return;
      default:
        this.fatal(`Unknown message type ${JSON.stringify(msg.type)}.`);
    }
  }

  private background(p: Promise<void>) {
    p.catch((e) => {
      this.hub.ctx.log.error(`sync: ${(e as Error).stack ?? e}`);
      this.fatal(`Internal error: ${(e as Error).message}`);
    });
  }

  private async runQuery(queryId: number, q: Subscription): Promise<QueryModification> {
    const r = await this.hub.ctx.deployment.run("query", q.udfPath, q.args, this.caller, q.journal, q.token);
    q.ran = true;
    q.journal = r.journal;
    if (r.ok) return { type: "QueryUpdated", queryId, value: r.value, logLines: r.logLines, journal: r.journal };
    return {
      type: "QueryFailed",
      queryId,
      errorMessage: r.errorMessage,
      errorData: r.errorData,
      logLines: r.logLines,
      journal: r.journal,
    };
  }

  private sendTransition(end: StateVersion, modifications: QueryModification[]) {
    this.send({
      type: "Transition",
      startVersion: encodeVersion(this.version),
      endVersion: encodeVersion(end),
      modifications,
    });
    this.version = end;
  }

  private async modifyQuerySet(msg: Record<string, unknown>) {
    if (msg.baseVersion !== this.version.querySet) {
      this.fatal(`Query set base version ${msg.baseVersion} does not match ${this.version.querySet}.`);
      return;
    }
    const mods: QueryModification[] = [];
    for (const m of msg.modifications as Record<string, unknown>[]) {
      const queryId = m.queryId as number;
      if (m.type === "Add") {
        const args = (m.args as unknown[])[0] ?? {};
        const journal = typeof m.journal === "string" ? m.journal : null;
        const sub: Subscription = { udfPath: String(m.udfPath), args, token: `${this.uid}:${queryId}`, ran: false, journal };
        this.queries.set(queryId, sub);
      } else if (m.type === "Remove") {
        const sub = this.queries.get(queryId);
        if (sub) this.hub.ctx.deployment.engine.forget(sub.token);
        this.queries.delete(queryId);
        this.lastSent.delete(queryId);
        mods.push({ type: "QueryRemoved", queryId });
      }
    }
    const ts = this.hub.ctx.currentTs();
    for (const m of msg.modifications as Record<string, unknown>[]) {
      if (m.type !== "Add") continue;
      const queryId = m.queryId as number;
      const sub = this.queries.get(queryId);
      if (!sub) continue;
      const mod = await this.runQuery(queryId, sub);
      this.lastSent.set(queryId, JSON.stringify(mod));
      mods.push(mod);
    }
    this.sendTransition({ ...this.version, querySet: msg.newVersion as number, ts: maxTs(ts, this.version.ts) }, mods);
  }

  forgetAll() {
    for (const sub of this.queries.values()) this.hub.ctx.deployment.engine.forget(sub.token);
  }

  /** Queues a refresh after a commit; several commits in a row share one refresh. */
  scheduleRefresh(stale: Set<string>) {
    let mine = false;
    for (const sub of this.queries.values()) {
      if (stale.has(sub.token)) {
        this.dirty.add(sub.token);
        mine = true;
      }
    }
    if (!mine) return this.queue;
    if (this.refreshQueued) return this.queue;
    this.refreshQueued = true;
    return this.enqueue(async () => {
      this.refreshQueued = false;
      await this.refreshNow(false);
    });
  }

  /** Re-runs every query; sends a transition if something changed or `force`. */
  private async refreshNow(force: boolean) {
    if (this.closed) return;
    const ts = this.hub.ctx.currentTs();
    const dirty = this.dirty;
    this.dirty = new Set();
    const mods = await this.rerun((sub) => !sub.ran || dirty.has(sub.token));
    // Nothing changed for this client: it does not need to hear about the new ts.
    if (mods.length === 0 && !force) return;
    this.sendTransition({ ...this.version, ts: maxTs(ts, this.version.ts) }, mods);
  }

  private async rerun(which: (sub: Subscription) => boolean = () => true): Promise<QueryModification[]> {
    const mods: QueryModification[] = [];
    for (const [queryId, sub] of this.queries) {
      if (!which(sub)) continue;
      const mod = await this.runQuery(queryId, sub);
      const encoded = JSON.stringify(mod);
      if (this.lastSent.get(queryId) === encoded) continue;
      // The subscription may have been removed while the query ran.
      if (!this.queries.has(queryId)) continue;
      this.lastSent.set(queryId, encoded);
      mods.push(mod);
    }
    return mods;
  }

  private async authenticate(msg: Record<string, unknown>) {
    const baseVersion = msg.baseVersion as number;
    let caller: Caller;
    try {
      caller = await this.resolveCaller(msg);
    } catch (e) {
      const error = e instanceof AuthTokenError ? e.message : `Authentication failed: ${(e as Error).message}`;
      this.hub.ctx.log.info(`sync: rejected token: ${error}`);
      this.send({ type: "AuthError", error, baseVersion, authUpdateAttempted: true });
      // Like the backend: the connection ends; the client fetches a fresh token and reconnects.
      setTimeout(() => this.ws.close(1000, "AuthError"), 50);
      return;
    }
    this.caller = { ...caller, request: this.request };
    void this.enqueue(async () => {
      if (baseVersion !== this.version.identity) {
        this.fatal(`Identity base version ${baseVersion} does not match ${this.version.identity}.`);
        return;
      }
      this.lastSent.clear();
      const ts = this.hub.ctx.currentTs();
      const mods = await this.rerun();
      this.sendTransition({ ...this.version, identity: baseVersion + 1, ts: maxTs(ts, this.version.ts) }, mods);
    });
  }

  private async resolveCaller(msg: Record<string, unknown>): Promise<Caller> {
    if (msg.tokenType === "None") return { identity: null, admin: false };
    if (msg.tokenType === "Admin") {
      if (msg.value !== this.hub.ctx.adminKey) throw new AuthTokenError("The admin key is not valid for this deployment.");
      const imp = msg.impersonating as Record<string, unknown> | undefined;
      const identity = imp
        ? ({ ...imp, tokenIdentifier: imp.tokenIdentifier ?? `${imp.issuer}|${imp.subject}` } as unknown as UserIdentity)
        : null;
      return { identity, admin: true };
    }
    if (msg.tokenType === "User") {
      const verifier = await this.hub.ctx.verifier();
      return { identity: await verifier.verify(String(msg.value)), admin: false };
    }
    throw new AuthTokenError(`Unknown tokenType ${JSON.stringify(msg.tokenType)}.`);
  }

  private async mutation(msg: Record<string, unknown>, caller: Caller) {
    const requestId = msg.requestId as number;
    const replays = this.hub.replays;
    let reply = this.sessionId ? replays.get(this.sessionId, requestId) : undefined;
    if (!reply) {
      reply = this.runMutation(msg, caller);
      if (this.sessionId) replays.set(this.sessionId, requestId, reply);
    }
    const { message, ts } = await reply;
    await this.enqueue(async () => {
      this.send(message);
      // The client resolves the mutation only once a later transition reaches its ts.
      if (ts !== null) await this.refreshNow(true);
    });
  }

  private async runMutation(msg: Record<string, unknown>, caller: Caller): Promise<MutationReply> {
    const requestId = msg.requestId as number;
    const args = (msg.args as unknown[])[0] ?? {};
    const r = await this.hub.ctx.deployment.run("mutation", String(msg.udfPath), args, caller);
    if (r.ok) {
      const ts = this.hub.ctx.currentTs();
      return {
        ts,
        message: { type: "MutationResponse", requestId, success: true, result: r.value, ts: encodeTs(ts), logLines: r.logLines },
      };
    }
    return {
      ts: null,
      message: {
        type: "MutationResponse",
        requestId,
        success: false,
        result: r.errorMessage,
        errorData: r.errorData,
        logLines: r.logLines,
      },
    };
  }

  private async action(msg: Record<string, unknown>, caller: Caller) {
    const requestId = msg.requestId as number;
    const args = (msg.args as unknown[])[0] ?? {};
    const r = await this.hub.ctx.deployment.run("action", String(msg.udfPath), args, caller);
    this.send(
      r.ok
        ? { type: "ActionResponse", requestId, success: true, result: r.value, logLines: r.logLines }
        : { type: "ActionResponse", requestId, success: false, result: r.errorMessage, errorData: r.errorData, logLines: r.logLines },
    );
  }
}

function maxTs(a: bigint, b: bigint) {
  return a > b ? a : b;
}
