// The functions' fetch fast path (hostFetch.ts) against EdgeVM's own fetch: the same request on
// the wire, the same kind of Response back, and everything it does not handle left to EdgeVM's.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { gzipSync } from "node:zlib";
import { EdgeVM } from "@edge-runtime/vm";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { createHostFetch, idleTimeoutMs, ownBytes, replyHeaders, type HostFetch } from "./hostFetch.ts";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  socket: number;
}

const seen: Seen[] = [];
let sockets = 0;
let server: http.Server;
let other: http.Server;
let base = "";
let otherBase = "";

function handle(req: http.IncomingMessage, res: http.ServerResponse, body: string) {
  const url = new URL(req.url ?? "/", "http://x");
  switch (url.pathname) {
    case "/json":
      res.writeHead(201, "Made", [["content-type", "application/json"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-twice", "1"], ["x-twice", "2"]]);
      res.end(JSON.stringify({ got: body }));
      return;
    case "/gzip":
      res.writeHead(200, { "content-type": "text/plain", "content-encoding": "gzip" });
      res.end(gzipSync("compressed hello"));
      return;
    case "/stream":
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write("data: 1\n\n");
      setTimeout(() => res.end("data: 2\n\n"), 150);
      return;
    case "/hang":
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial");
      return;
    case "/cut":
      // Promises 100 bytes, sends 10, then the connection dies.
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write("0123456789", () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    case "/hang-length":
      res.writeHead(200, { "content-type": "application/json", "content-length": "100" });
      res.write("partial");
      return;
    case "/slow":
      setTimeout(() => res.end("late"), 2000);
      return;
    case "/empty":
      res.writeHead(204);
      res.end();
      return;
    case "/redirect": {
      const to = url.searchParams.get("to")!;
      res.writeHead(Number(url.searchParams.get("status")), { location: to });
      res.end();
      return;
    }
    default:
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`${req.method} ${body}`);
  }
}

function listen(s: http.Server): Promise<string> {
  return new Promise((resolve) => s.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));
}

function makeServer(): http.Server {
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body, socket: (req.socket as unknown as { id: number }).id });
      handle(req, res, body);
    });
  });
  s.on("connection", (socket) => {
    (socket as unknown as { id: number }).id = ++sockets;
  });
  return s;
}

const vm = new EdgeVM();
const context = vm.context as unknown as { fetch: typeof fetch; Response: typeof Response; ReadableStream: typeof ReadableStream; FormData: typeof FormData; Request: typeof Request };
const fallback = vi.fn((input: unknown, init?: unknown) => context.fetch(input as RequestInfo, init as RequestInit));
let host: HostFetch;

beforeAll(async () => {
  server = makeServer();
  other = makeServer();
  base = await listen(server);
  otherBase = await listen(other);
  host = createHostFetch(fallback, context.Response, context.ReadableStream);
});

afterAll(async () => {
  host.close();
  server.closeAllConnections();
  other.closeAllConnections();
  await Promise.all([new Promise((r) => server.close(r)), new Promise((r) => other.close(r))]);
});

beforeEach(() => {
  seen.length = 0;
  fallback.mockClear();
});

describe("the functions' fetch", () => {
  it("sends what EdgeVM's fetch sends for a JSON POST", async () => {
    const init = { method: "post", headers: { Authorization: "Bearer sk", "Content-Type": "application/json" }, body: JSON.stringify({ a: 1 }) };
    await (await context.fetch(`${base}/echo?q=1`, init)).text();
    await (await host.fetch(`${base}/echo?q=1`, init)).text();
    expect(fallback).not.toHaveBeenCalled();
    const [viaVm, viaHost] = seen;
    expect(viaHost.method).toBe("POST");
    expect(viaHost.url).toBe(viaVm.url);
    expect(viaHost.body).toBe(viaVm.body);
    expect(viaHost.headers).toEqual(viaVm.headers);
  });

  it("adds text/plain to a string body without a content type, like fetch", async () => {
    await (await context.fetch(`${base}/echo`, { method: "POST", body: "hi" })).text();
    await (await host.fetch(`${base}/echo`, { method: "POST", body: new TextEncoder().encode("hi") })).text();
    await (await host.fetch(`${base}/echo`, { method: "POST", body: "hi" })).text();
    expect(seen[2].headers).toEqual(seen[0].headers);
    expect(seen[1].headers["content-type"]).toBe(undefined);
    expect(seen[1].body).toBe("hi");
  });

  it("sends one Content-Length, its own, whatever the caller set", async () => {
    await (await host.fetch(`${base}/echo`, { method: "POST", body: "hi", headers: { "Content-Length": "2" } })).text();
    await (await host.fetch(`${base}/echo`, { method: "POST", body: "hey", headers: [["content-length", "99"]] })).text();
    expect(seen.map((s) => [s.headers["content-length"], s.body])).toEqual([["2", "hi"], ["3", "hey"]]);
  });

  it("returns EdgeVM's Response with status, headers, url and body", async () => {
    const res = await host.fetch(`${base}/json`, { method: "POST", body: "x", headers: [["x-a", "1"]] });
    expect(res).toBeInstanceOf(context.Response);
    expect(res.status).toBe(201);
    expect(res.statusText).toBe("Made");
    expect(res.ok).toBe(true);
    expect(res.url).toBe(`${base}/json`);
    expect(res.headers.get("x-twice")).toBe("1, 2");
    expect(res.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(await res.json()).toEqual({ got: "x" });
  });

  it("streams the body as it arrives and reuses the connection", async () => {
    const res = await host.fetch(`${base}/stream`);
    const reader = res.body!.getReader();
    const started = Date.now();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe("data: 1\n\n");
    expect(Date.now() - started).toBeLessThan(120);
    expect(first.value).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(first.value)).toBe(false);
    const second = await reader.read();
    expect(new TextDecoder().decode(second.value)).toBe("data: 2\n\n");
    expect((await reader.read()).done).toBe(true);
    await (await host.fetch(`${base}/echo`)).text();
    expect(seen[1].socket).toBe(seen[0].socket);
  });

  it("decodes gzip and has no body for 204 and HEAD", async () => {
    expect(await (await host.fetch(`${base}/gzip`)).text()).toBe("compressed hello");
    const empty = await host.fetch(`${base}/empty`, { method: "DELETE" });
    expect(empty.status).toBe(204);
    expect(empty.body).toBeNull();
    const head = await host.fetch(`${base}/echo`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it("follows redirects through EdgeVM's fetch with the standard's method rules", async () => {
    const to = encodeURIComponent(`${base}/echo`);
    expect(await (await host.fetch(`${base}/redirect?status=302&to=${to}`, { method: "POST", body: "b" })).text()).toBe("GET ");
    expect(await (await host.fetch(`${base}/redirect?status=307&to=${to}`, { method: "POST", body: "b" })).text()).toBe("POST b");
    expect(fallback).toHaveBeenCalledTimes(2);
    const away = encodeURIComponent(`${otherBase}/echo`);
    await (await host.fetch(`${base}/redirect?status=308&to=${away}`, { method: "PUT", body: "c", headers: { authorization: "Bearer s", "x-keep": "1" } })).text();
    const last = seen[seen.length - 1];
    expect(last.body).toBe("c");
    expect(last.headers.authorization).toBeUndefined();
    expect(last.headers["x-keep"]).toBe("1");
  });

  it("rejects with the signal's reason, and errors a body the signal cuts", async () => {
    const early = new AbortController();
    early.abort(new Error("gone"));
    await expect(host.fetch(`${base}/echo`, { signal: early.signal })).rejects.toThrow("gone");
    const waiting = new AbortController();
    const pending = host.fetch(`${base}/slow`, { signal: waiting.signal });
    setTimeout(() => waiting.abort(), 50);
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
    const midway = new AbortController();
    const res = await host.fetch(`${base}/hang`, { signal: midway.signal });
    const reader = res.body!.getReader();
    await reader.read();
    midway.abort(new Error("cut"));
    await expect(reader.read()).rejects.toThrow("cut");
  });

  it("reads a reply with a length whole, and fails its body, not fetch, when it is cut off", async () => {
    const res = await host.fetch(`${base}/json`, { method: "POST", body: "whole" });
    expect(res.bodyUsed).toBe(false);
    expect(await res.text()).toBe('{"got":"whole"}');
    expect(res.bodyUsed).toBe(true);
    await expect(res.text()).rejects.toThrow("Body is unusable");
    const cut = await host.fetch(`${base}/cut`);
    expect(cut.status).toBe(200);
    const reader = cut.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("0123456789");
    await expect(reader.read()).rejects.toMatchObject({ name: "TypeError", message: "terminated" });
    // A signal that fires while such a body is still arriving fails the fetch itself.
    const waiting = new AbortController();
    const pending = host.fetch(`${base}/hang-length`, { signal: waiting.signal });
    setTimeout(() => waiting.abort(new Error("cut short")), 50);
    await expect(pending).rejects.toThrow("cut short");
  });

  it("fails like fetch when nothing listens", async () => {
    const closed = http.createServer();
    const url = await listen(closed);
    await new Promise((r) => closed.close(r));
    await expect(host.fetch(`${url}/x`)).rejects.toMatchObject({ name: "TypeError", message: "fetch failed" });
  });

  it("leaves requests it does not handle to EdgeVM's fetch", async () => {
    const form = new context.FormData();
    form.append("a", "1");
    await (await host.fetch(`${base}/echo`, { method: "POST", body: form })).text();
    await (await host.fetch(new context.Request(`${base}/echo`, { method: "POST", body: "r" }))).text();
    await (await host.fetch(`${base}/echo`, { redirect: "manual" })).text();
    await (await host.fetch(`${base}/echo`, { cache: "no-store" })).text();
    await expect(host.fetch(`${base}/echo`, { method: "GET", body: "no" })).rejects.toThrow(TypeError);
    expect(fallback).toHaveBeenCalledTimes(5);
    expect(seen.map((s) => s.method)).toEqual(["POST", "POST", "GET", "GET"]);
  });
});

describe("replyHeaders", () => {
  it("reads the headers the fetch decides on from the raw pairs, as res.headers names them, the first of repeated ones", () => {
    const raw = [
      "Content-Type", "text/event-stream", "X-Other", "1", "content-type", "application/json",
      "Keep-Alive", "timeout=60", "CONTENT-LENGTH", "42", "Location", "/next", "Content-Encoding", "gzip",
      "X-A-Header-Name-Longer-Than-Any-Of-Them", "ignored",
    ];
    expect(replyHeaders(raw)).toEqual({
      "content-type": "text/event-stream",
      "keep-alive": "timeout=60",
      "content-length": "42",
      location: "/next",
      "content-encoding": "gzip",
    });
    expect(replyHeaders(["Date", "x", "Server", "y"])).toEqual({});
  });
});

describe("ownBytes", () => {
  it("copies the chunks once into a buffer of their own", () => {
    const pooled = Buffer.from("xxhelloyy").subarray(2, 7);
    const one = ownBytes([pooled]);
    expect(Buffer.from(one).toString()).toBe("hello");
    expect(one.byteOffset).toBe(0);
    expect(one.buffer.byteLength).toBe(5);
    pooled[0] = 0x4a;
    expect(Buffer.from(one).toString()).toBe("hello");
    const many = ownBytes([Buffer.from("ab"), new Uint8Array([]), Buffer.from("cde")]);
    expect(Buffer.from(many).toString()).toBe("abcde");
    expect(many.buffer.byteLength).toBe(5);
    expect(ownBytes([]).length).toBe(0);
  });
});

describe("idle connections, kept as undici keeps them", () => {
  it("for the server's Keep-Alive hint less 2 s, at most 10 minutes, else 4 s", () => {
    expect(idleTimeoutMs(undefined)).toBe(4000);
    expect(idleTimeoutMs("max=100")).toBe(4000);
    expect(idleTimeoutMs("timeout=65")).toBe(63_000);
    expect(idleTimeoutMs("timeout=5, max=1000")).toBe(3000);
    expect(idleTimeoutMs("max=1000, Timeout=10")).toBe(8000);
    expect(idleTimeoutMs("timeout=100000")).toBe(600_000);
    // A hint that leaves nothing: the connection is not reused.
    expect(idleTimeoutMs("timeout=2")).toBeNull();
    expect(idleTimeoutMs("timeout=0")).toBeNull();
    expect(idleTimeoutMs("timeout=soon")).toBe(4000);
    expect(idleTimeoutMs(["timeout=65"])).toBe(4000);
  });

  it("reuse a connection the server keeps longer than 4 s, and give up one it keeps for 3", async () => {
    const kept = makeServer();
    const short = makeServer();
    kept.keepAliveTimeout = 8_000;
    short.keepAliveTimeout = 3_000;
    const [keptBase, shortBase] = await Promise.all([listen(kept), listen(short)]);
    const fetcher = createHostFetch(fallback, context.Response, context.ReadableStream);
    try {
      const twice = async (url: string, pauseMs: number) => {
        const first = await fetcher.fetch(url);
        const hint = first.headers.get("keep-alive");
        await first.text();
        await new Promise((r) => setTimeout(r, pauseMs));
        await (await fetcher.fetch(url)).text();
        const [a, b] = seen.filter((x) => x.url === new URL(url).pathname + new URL(url).search).slice(-2);
        return { hint, reused: a.socket === b.socket };
      };
      // Node's own agent closed both after at most 4 s (and the short one after 2).
      const [longer, shorter] = await Promise.all([twice(`${keptBase}/echo?k=long`, 4_500), twice(`${shortBase}/echo?k=short`, 1_300)]);
      expect(longer).toEqual({ hint: "timeout=8", reused: true });
      expect(shorter).toEqual({ hint: "timeout=3", reused: false });
    } finally {
      fetcher.close();
      kept.closeAllConnections();
      short.closeAllConnections();
      await Promise.all([new Promise((r) => kept.close(r)), new Promise((r) => short.close(r))]);
    }
  }, 15_000);
});

