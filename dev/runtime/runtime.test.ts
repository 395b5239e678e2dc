// The runtime against the real Convex clients, on random ports with a temp data dir
// and the small fixture app in dev/runtime/fixtures/convex.
import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { ConvexError } from "convex/values";
import { SignJWT, exportJWK, generateKeyPair } from "jose";
import WebSocket from "ws";
import { RuntimeStartError, startRuntime, type Runtime } from "./server.ts";

const functionsDir = path.join(import.meta.dirname, "fixtures/convex");
const q = (name: string) => makeFunctionReference<"query">(name);
const m = (name: string) => makeFunctionReference<"mutation">(name);

let jwks: http.Server;
let issuer: string;
let privateKey: CryptoKey;
let dataDir: string;
let rt: Runtime;

async function token(email: string, claims: Record<string, unknown> = {}, iss = issuer) {
  return new SignJWT({ email, ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "k1" })
    .setIssuer(iss)
    .setSubject(`sub|${email}`)
    .setAudience("convex")
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(privateKey);
}

const errors: string[] = [];

function boot(dir: string) {
  return startRuntime({
    logger: { info: () => {}, error: (msg) => errors.push(msg) },
    port: 0,
    sitePort: 0,
    dataDir: dir,
    functionsDir,
    readEnvLocal: false,
    env: { TEST_JWT_ISSUER: issuer, TEST_JWKS_URL: `${issuer}/jwks.json` },
  });
}

function client(r = rt) {
  return new ConvexClient(r.urls.cloud, { webSocketConstructor: WebSocket as never, unsavedChangesWarning: false });
}

beforeAll(async () => {
  const pair = await generateKeyPair("RS256");
  privateKey = pair.privateKey as CryptoKey;
  const jwk = { ...(await exportJWK(pair.publicKey)), kid: "k1", alg: "RS256", use: "sig" };
  jwks = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => jwks.listen(0, "127.0.0.1", () => r()));
  issuer = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}`;
  dataDir = mkdtempSync(path.join(tmpdir(), "runtime-test-"));
  rt = await boot(dataDir);
});

afterAll(async () => {
  await rt?.close();
  jwks?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

function until<T>(fn: () => T | undefined, ms = 4000): Promise<T> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const check = () => {
      const v = fn();
      if (v !== undefined) return resolve(v);
      if (Date.now() - started > ms) return reject(new Error("timed out waiting"));
      setTimeout(check, 20);
    };
    check();
  });
}

describe("offline runtime", () => {
  it("pushes a subscription update after a mutation and resolves the mutation", async () => {
    const c = client();
    const seen: unknown[][] = [];
    c.onUpdate(q("messages:list"), { author: "anonymous" }, (v) => seen.push(v as unknown[]));
    await until(() => (seen.length > 0 ? true : undefined));
    const id = await c.mutation(m("messages:send"), { body: "hello" });
    expect(typeof id).toBe("string");
    const withMessage = await until(() => seen.find((v) => v.some((d) => (d as { _id: string })._id === id)));
    expect(withMessage[0]).toMatchObject({ body: "hello", author: "anonymous" });
    await c.close();
  });

  it("re-runs a subscription only for writes inside what it read", async () => {
    const mine = `reader-${crypto.randomUUID()}`;
    const c = client();
    const seen: { body: string }[][] = [];
    c.onUpdate(q("messages:list"), { author: mine }, (v) => seen.push(v as never));
    await until(() => (seen.length > 0 ? true : undefined));
    const h = new ConvexHttpClient(rt.urls.cloud);
    const queries = () => rt.metrics().functionCalls.query;

    const before = queries();
    await h.mutation(m("messages:sendAs"), { author: `other-${crypto.randomUUID()}`, body: "elsewhere" });
    await new Promise((r) => setTimeout(r, 150));
    expect(queries()).toBe(before);

    await h.mutation(m("messages:sendAs"), { author: mine, body: "mine" });
    const updated = await until(() => seen.find((v) => v.some((d) => d.body === "mine")));
    expect(updated).toHaveLength(1);
    expect(queries()).toBeGreaterThan(before);
    await c.close();
  });

  it("keeps a paginated page's end where it was when a newer item arrives (query journal)", async () => {
    const author = `pager-${crypto.randomUUID()}`;
    const h = new ConvexHttpClient(rt.urls.cloud);
    for (const body of ["a1", "a2", "a3"]) {
      await h.mutation(m("messages:sendAs"), { author, body });
      await new Promise((r) => setTimeout(r, 5));
    }
    const c = client();
    const pages: { page: { body: string }[] }[] = [];
    c.onUpdate(q("messages:page"), { author, paginationOpts: { numItems: 2, cursor: null } }, (v) => pages.push(v as never));
    await until(() => (pages.length > 0 ? true : undefined));
    expect(pages[0].page.map((d) => d.body)).toEqual(["a3", "a2"]);
    await c.mutation(m("messages:sendAs"), { author, body: "a4" });
    // Without a journal the page would shift to [a4, a3]; Convex keeps its end at a2.
    const grown = await until(() => pages.find((p) => p.page.length === 3));
    expect(grown.page.map((d) => d.body)).toEqual(["a4", "a3", "a2"]);
    await c.close();
  });

  it("accepts a valid JWT and maps its claims to the identity", async () => {
    const c = client();
    c.setAuth(async () => token("ada@example.com", { role: "support" }));
    const seen: unknown[] = [];
    c.onUpdate(q("messages:whoami"), {}, (v) => seen.push(v));
    const me = await until(() => seen.find((v) => v !== null));
    expect(me).toEqual({ tokenIdentifier: `${issuer}|sub|ada@example.com`, email: "ada@example.com", role: "support" });
    await c.close();
  });

  it("answers a bad token with AuthError", async () => {
    const c = client();
    const states: boolean[] = [];
    c.setAuth(async () => token("eve@example.com", {}, "https://not-configured.example"), (ok) => states.push(ok));
    c.onUpdate(q("messages:whoami"), {}, () => {});
    await until(() => (states.includes(false) ? true : undefined));
    await c.close();
  });

  it("delivers ConvexError data to the client", async () => {
    const h = new ConvexHttpClient(rt.urls.cloud);
    const err = await h.query(q("messages:refuse"), {}).catch((e) => e);
    expect(err).toBeInstanceOf(ConvexError);
    expect(err.data.code).toBe("FORBIDDEN");
  });

  it("refuses internal functions without the admin key and runs them with it", async () => {
    const h = new ConvexHttpClient(rt.urls.cloud);
    await expect(h.mutation(m("messages:sendInternal"), { body: "x" })).rejects.toThrow(/Could not find public function/);
    const admin = new ConvexHttpClient(rt.urls.cloud);
    (admin as unknown as { setAdminAuth(k: string): void }).setAdminAuth(rt.adminKey);
    const id = await admin.mutation(m("messages:sendInternal"), { body: "from admin" });
    expect(typeof id).toBe("string");
  });

  it("speaks the HTTP API's wire format, console output as logLines", async () => {
    const res = await fetch(`${rt.urls.cloud}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "messages:noisy", format: "convex_encoded_json", args: [{}] }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "success", value: 1, logLines: [`[LOG] 'hello' {"a":1}`] });
    const failed = await fetch(`${rt.urls.cloud}/api/query`, {
      method: "POST",
      body: JSON.stringify({ path: "messages:refuse", format: "convex_encoded_json", args: [{}] }),
    });
    expect(failed.status).toBe(560);
    expect(await failed.json()).toMatchObject({ status: "error", errorData: { code: "FORBIDDEN", message: "no" } });
  });

  it("refuses a busy port with a message that says what to do", async () => {
    const port = Number(new URL(rt.urls.cloud).port);
    const err = await startRuntime({ port, sitePort: 0, dataDir, functionsDir, quiet: true, persist: false }).catch((e) => e);
    expect(err).toBeInstanceOf(RuntimeStartError);
    expect(err.message).toMatch(new RegExp(`Port ${port} \\(cloud\\) is already in use.*CONVEX_PORT`));
  });

  it("logs a failing scheduled function with its stack mapped to the source", async () => {
    await new ConvexHttpClient(rt.urls.cloud).mutation(m("messages:failLater"), {});
    const line = await until(() => errors.find((e) => e.includes("scheduled boom")));
    expect(line).toMatch(/messages:explode/);
    expect(line).toMatch(/fixtures\/convex\/messages\.ts:\d+:\d+/);
  });

  it("runs functions without Node globals", async () => {
    const h = new ConvexHttpClient(rt.urls.cloud);
    expect(await h.query(q("messages:usesBuffer"), {})).toBe("undefined");
  });

  it("runs crons and scheduled functions on real timers", async () => {
    const h = new ConvexHttpClient(rt.urls.cloud);
    await h.mutation(m("messages:sendLater"), { body: "later", delayMs: 100 });
    const later = await (async () => {
      for (let i = 0; i < 100; i++) {
        const list = (await h.query(q("messages:list"), {})) as { body: string }[];
        if (list.some((d) => d.body === "later")) return true;
        await new Promise((r) => setTimeout(r, 50));
      }
      return false;
    })();
    expect(later).toBe(true);
    let ticks = 0;
    for (let i = 0; i < 60 && ticks < 2; i++) {
      ticks = (await h.query(q("messages:ticks"), {})) as number;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(ticks).toBeGreaterThanOrEqual(2);
  });

  it("keeps a function scheduled beyond Node's timer limit pending instead of running it at once", async () => {
    // 30 days is past setTimeout's 2^31-1 ms, which Node turns into 1 ms.
    const h = new ConvexHttpClient(rt.urls.cloud);
    const body = `far-${crypto.randomUUID()}`;
    await h.mutation(m("messages:sendLater"), { body, delayMs: 30 * 86_400_000 });
    await new Promise((r) => setTimeout(r, 300));
    const list = (await h.query(q("messages:list"), {})) as { body: string }[];
    expect(list.some((d) => d.body === body)).toBe(false);
  });

  it("applies a mutation replayed after a reconnect only once", async () => {
    const sessionId = crypto.randomUUID();
    const body = `replay-${sessionId}`;
    const send = async (connectionCount: number) => {
      const ws = new WebSocket(`${rt.urls.cloud.replace("http", "ws")}/api/1.0/sync`);
      await new Promise((r) => ws.once("open", r));
      const replies: Record<string, unknown>[] = [];
      ws.on("message", (d) => replies.push(JSON.parse(String(d))));
      ws.send(JSON.stringify({ type: "Connect", sessionId, connectionCount, lastCloseReason: null, clientTs: Date.now() }));
      ws.send(JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "messages:send", args: [{ body }] }));
      const reply = await until(() => replies.find((r) => r.type === "MutationResponse"));
      await until(() => replies.find((r) => r.type === "Transition"));
      ws.close();
      return reply;
    };
    const first = await send(0);
    const second = await send(1);
    expect(second.result).toEqual(first.result);
    const h = new ConvexHttpClient(rt.urls.cloud);
    const list = (await h.query(q("messages:list"), {})) as { body: string }[];
    expect(list.filter((d) => d.body === body)).toHaveLength(1);
  });

  it("streams httpAction responses chunk by chunk and passes bodies and headers", async () => {
    const res = await fetch(`${rt.urls.site}/stream`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const reader = res.body!.getReader();
    const arrivals: number[] = [];
    for (;;) {
      const { done } = await reader.read();
      if (done) break;
      arrivals.push(Date.now());
    }
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    // Buffered output would arrive all at once at the end.
    expect(arrivals[arrivals.length - 1] - arrivals[0]).toBeGreaterThanOrEqual(200);
    // A stream is sent chunked, as it comes; a body that is complete at once goes out whole.
    expect(res.headers.get("transfer-encoding")).toBe("chunked");
    // A stream that is slow to start still gets its headers at once.
    const started = Date.now();
    const slow = await fetch(`${rt.urls.site}/slow-start`);
    expect(Date.now() - started).toBeLessThan(200);
    expect(await slow.text()).toBe("data: late\n\n");
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    const echo = await fetch(`${rt.urls.site}/echo`, { method: "POST", body: "ping", headers: { "x-test": "yes" } });
    expect(echo.status).toBe(201);
    expect(echo.headers.get("transfer-encoding")).toBeNull();
    const echoText = await echo.text();
    expect(echo.headers.get("content-length")).toBe(String(Buffer.byteLength(echoText)));
    expect(JSON.parse(echoText)).toEqual({ body: "ping", header: "yes" });
    const json = await fetch(`${rt.urls.site}/json`, { method: "POST", body: JSON.stringify({ list: [1] }) });
    expect(await json.json()).toEqual({ plainObject: true, array: true });
    const replyBytes = await fetch(`${rt.urls.site}/reply-bytes`);
    expect(replyBytes.headers.get("content-length")).toBe("4");
    expect([...new Uint8Array(await replyBytes.arrayBuffer())]).toEqual([0, 255, 1, 128]);
    const blob = await fetch(`${rt.urls.site}/reply-blob`);
    expect(await blob.text()).toBe("from a blob");
    const bytes = await fetch(`${rt.urls.site}/bytes`, { method: "POST", body: "abc" });
    expect(await bytes.json()).toEqual({
      bodyIsArrayBuffer: true,
      encodedIsUint8Array: true,
      ownBuffer: true,
      viewOfBody: 3,
      subclass: true,
      notBytes: false,
      sameAsGlobal: true,
    });
  });

  it("runs mutations from stream callbacks that fire as the client reads", async () => {
    const id = crypto.randomUUID();
    const text = await (await fetch(`${rt.urls.site}/transform?id=${id}`)).text();
    expect(text).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\n");
    const h = new ConvexHttpClient(rt.urls.cloud);
    await expect
      .poll(async () => ((await h.query(q("messages:list"), {})) as { body: string }[]).some((d) => d.body === `flushed ${id}`), {
        timeout: 5000,
      })
      .toBe(true);
  }, 15_000);

  it("answers a body with a declared length as soon as it is complete, and still runs the handler to its end", async () => {
    const id = crypto.randomUUID();
    const started = Date.now();
    const res = await fetch(`${rt.urls.site}/declared-then-finish?id=${id}`);
    expect(res.headers.get("content-length")).toBe("13");
    expect(res.headers.get("transfer-encoding")).toBeNull();
    expect(await res.json()).toEqual({ answer: 42 });
    // The body arrived before the handler's 400 ms tail...
    expect(Date.now() - started).toBeLessThan(350);
    const h = new ConvexHttpClient(rt.urls.cloud);
    const finished = async () => ((await h.query(q("messages:list"), {})) as { body: string }[]).some((d) => d.body === `finished ${id}`);
    expect(await finished()).toBe(false);
    // ...which still ran: its mutation committed.
    await expect.poll(finished, { timeout: 5000 }).toBe(true);
  }, 15_000);

  it("tells the httpAction when its client disconnects", async () => {
    const id = crypto.randomUUID();
    const controller = new AbortController();
    const res = await fetch(`${rt.urls.site}/forever?id=${id}`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => {});
    const h = new ConvexHttpClient(rt.urls.cloud);
    await expect
      .poll(async () => ((await h.query(q("messages:list"), {})) as { body: string }[]).some((d) => d.body === `aborted ${id}`), {
        timeout: 5000,
      })
      .toBe(true);
  }, 15_000);

  it("hands a pending scheduled function to the next runtime, which runs it once", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runtime-sched-"));
    const body = `scheduled-${crypto.randomUUID()}`;
    const first = await boot(dir);
    await new ConvexHttpClient(first.urls.cloud).mutation(m("messages:sendLater"), { body, delayMs: 1500 });
    await first.close();
    const callsAfterClose = first.metrics().functionCalls.mutation;
    const second = await boot(dir);
    try {
      const h = new ConvexHttpClient(second.urls.cloud);
      const count = async () => ((await h.query(q("messages:list"), {})) as { body: string }[]).filter((d) => d.body === body).length;
      await expect.poll(count, { timeout: 4000 }).toBe(1);
      await new Promise((r) => setTimeout(r, 300));
      expect(await count()).toBe(1);
      // The closed runtime did not run it too.
      expect(first.metrics().functionCalls.mutation).toBe(callsAfterClose);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 15_000);

  it("recovers commits from the log when the process died without closing", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "runtime-crash-"));
    const first = await boot(dir);
    const id = await new ConvexHttpClient(first.urls.cloud).mutation(m("messages:send"), { body: "survives a crash" });
    // The log is appended within ~100 ms; no close(), so no compaction.
    await new Promise((r) => setTimeout(r, 400));
    const second = await boot(dir);
    try {
      const list = (await new ConvexHttpClient(second.urls.cloud).query(q("messages:list"), {})) as { _id: string }[];
      expect(list.map((d) => d._id)).toContain(id);
    } finally {
      await second.close();
      await first.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);

  it("keeps documents and their ids across a restart", async () => {
    const h = new ConvexHttpClient(rt.urls.cloud);
    const id = await h.mutation(m("messages:send"), { body: "persisted" });
    const before = (await h.query(q("messages:list"), {})) as { _id: string; _creationTime: number }[];
    await rt.close();
    rt = await boot(dataDir);
    const h2 = new ConvexHttpClient(rt.urls.cloud);
    const after = (await h2.query(q("messages:list"), {})) as { _id: string; _creationTime: number }[];
    expect(after.map((d) => [d._id, d._creationTime])).toEqual(before.map((d) => [d._id, d._creationTime]));
    expect(after.some((d) => d._id === id)).toBe(true);
    const next = await h2.mutation(m("messages:send"), { body: "after restart" });
    expect(after.some((d) => d._id === next)).toBe(false);
  });
});
