// The functions' `fetch`, for the requests a provider call makes: a string (or URL) and a
// plain init with a text or byte body go out through Node's own HTTP client on a keep-alive
// pool, and come back as the same EdgeVM `Response` the VM's fetch returns. Everything else
// (a Request object, FormData/Blob/stream bodies, redirect modes other than "follow", other
// schemes, options such as `cache` or `keepalive`) and every redirect's next hop goes to EdgeVM's
// own fetch (bundled undici), unchanged.
//
// Why: EdgeVM's fetch runs the whole Fetch standard per call in undici's JavaScript: it builds a
// Request (a Web stream for its body), clones it for the network (a tee of that stream), parses
// the reply with llhttp compiled to WebAssembly, exposes the body through another Web stream,
// and wraps the Response once more. Node's `http` parses in C++ and the reply needs one stream.
// See README, "Performance: function calls".
import http from "node:http";
import https from "node:https";
import { createBrotliDecompress, createGunzip, createInflate } from "node:zlib";
import type { Socket } from "node:net";
import type { Readable } from "node:stream";
import { TRUSTED_RESPONSE } from "./primitives.ts";

// The VM's fetch as the fast path calls it (input and init are whatever the function passed).
type Fetch = (input: any, init?: any) => Promise<Response>;
type ResponseClass = new (body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null, init: ResponseInit) => Response;
type ReadableStreamClass = typeof ReadableStream;

/** Init keys the fast path understands; any other key sends the call to EdgeVM's fetch. */
const FAST_INIT_KEYS = new Set(["method", "headers", "body", "signal", "redirect"]);
/** Methods the Fetch standard upper-cases; others (PATCH) are sent as written, like undici. */
const NORMALIZED_METHODS = new Set(["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const NULL_BODY = new Set([101, 103, 204, 205, 304]);
/**
 * A reply with a Content-Length up to this size, not compressed and not an event stream, is read
 * whole before fetch resolves (a provider's JSON answer arrives with its headers): its Response
 * is built from the bytes, which the functions' text()/json() then read without a stream
 * (primitives.ts). Anything else resolves at its headers and streams.
 */
const WHOLE_BODY_MAX = 1 << 20;

/** undici's defaults: idle time without a Keep-Alive hint, what is taken off a hint, and the cap. */
const IDLE_DEFAULT_MS = 4_000;
const IDLE_HINT_MARGIN_MS = 2_000;
const IDLE_MAX_MS = 600_000;

/**
 * How long an idle connection is kept for reuse after a reply with this `Keep-Alive` header, as
 * undici (EdgeVM's fetch) decides it: the server's `timeout=` less 2 s, at most 10 minutes; 4 s
 * when the reply has no hint; null (close it) when the hint leaves nothing.
 */
export function idleTimeoutMs(keepAlive: string | string[] | undefined): number | null {
  const hint = typeof keepAlive === "string" ? /(?:^|[\s,])timeout=(\d+)/i.exec(keepAlive)?.[1] : undefined;
  if (hint === undefined) return IDLE_DEFAULT_MS;
  const ms = Math.min(Number(hint) * 1000 - IDLE_HINT_MARGIN_MS, IDLE_MAX_MS);
  return ms > 0 ? ms : null;
}

/** The Keep-Alive hint of the last reply a pooled socket carried, for keepSocketAlive. */
const KEEP_ALIVE_HINT = Symbol("keep-alive hint");
type PooledSocket = Socket & { [KEEP_ALIVE_HINT]?: string | string[] };

/**
 * Node's agent keeps an idle socket for its `timeout` option and only ever shortens that for a
 * server's hint; undici lengthens it too. With the same rule as undici, a server that says it
 * keeps connections for a minute (the simulator does) is not reconnected to after every pause of
 * four seconds. Otherwise as Node's own: TCP keep-alive on, the socket unref'd.
 */
function keepSocketAliveLikeUndici(this: http.Agent, socket: PooledSocket): boolean {
  const timeout = idleTimeoutMs(socket[KEEP_ALIVE_HINT]);
  if (timeout === null) return false;
  socket.setKeepAlive(true, (this as unknown as { keepAliveMsecs: number }).keepAliveMsecs);
  socket.unref();
  if (socket.timeout !== timeout) socket.setTimeout(timeout);
  return true;
}

export interface HostFetch {
  fetch: Fetch;
  /** Closes the pool's idle sockets and stops keeping new ones (the runtime is closing). */
  close(): void;
}

interface FastRequest {
  url: URL;
  options: Target["options"];
  method: string;
  headers: [string, string][];
  body: Uint8Array | null;
  signal: AbortSignal | null;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  // Any realm's Object.prototype: its own prototype is null.
  return proto === null || Object.getPrototypeOf(proto) === null;
}

function isBytes(value: unknown): value is ArrayBufferView | ArrayBuffer {
  if (ArrayBuffer.isView(value)) return true;
  return Object.prototype.toString.call(value) === "[object ArrayBuffer]";
}

/** Header pairs from what `init.headers` may be (record, pairs, Headers), or null: not ours to handle. */
function headerPairs(headers: unknown): [string, string][] | null {
  const out: [string, string][] = [];
  if (headers === undefined || headers === null) return out;
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (!Array.isArray(pair) || pair.length !== 2) return null;
      out.push([String(pair[0]), String(pair[1])]);
    }
  } else if (isPlainObject(headers)) {
    for (const [k, v] of Object.entries(headers)) out.push([k, String(v)]);
  } else if (typeof (headers as Headers).forEach === "function" && typeof (headers as Headers).get === "function") {
    (headers as Headers).forEach((v, k) => out.push([k, v]));
  } else return null;
  for (const [name, value] of out) {
    // Let EdgeVM's fetch reject what it rejects (with its own message).
    if (!TOKEN.test(name) || /[\0\r\n]/.test(value)) return null;
  }
  return out;
}

/** A parsed target: its URL and the options Node's `request` derives from it (never changed). */
interface Target {
  url: URL;
  options: { protocol: string; hostname: string; port?: number; path: string };
}

/**
 * Targets by href: a provider is called at the same few URLs, and parsing one (then Node's
 * urlToHttpOptions of it) on every call showed in profiles. Bounded; cleared whole when full.
 */
const targets = new Map<string, Target | null>();
const TARGETS_MAX = 512;

function targetOf(href: string): Target | null {
  let target = targets.get(href);
  if (target !== undefined) return target;
  target = null;
  try {
    const url = new URL(href);
    if ((url.protocol === "http:" || url.protocol === "https:") && !url.username && !url.password) {
      // What urlToHttpOptions gives for such a URL (IPv6 hosts without their brackets).
      const hostname = url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname;
      const options: Target["options"] = { protocol: url.protocol, hostname, path: `${url.pathname}${url.search}` };
      if (url.port !== "") options.port = Number(url.port);
      target = { url, options };
    }
  } catch {
    target = null;
  }
  if (targets.size >= TARGETS_MAX) targets.clear();
  targets.set(href, target);
  return target;
}

/** The request in the fast path's terms, or null when EdgeVM's fetch should take it. */
function fastRequest(input: unknown, init: unknown): FastRequest | null {
  let href: string;
  if (typeof input === "string") href = input;
  else if (input !== null && typeof input === "object" && typeof (input as URL).href === "string" && !("method" in input)) {
    href = (input as URL).href;
  } else return null;
  const target = targetOf(href);
  if (target === null) return null;
  const url = target.url;
  if (init !== undefined && init !== null && !isPlainObject(init)) return null;
  const options = (init ?? {}) as Record<string, unknown>;
  for (const key of Object.keys(options)) if (options[key] !== undefined && !FAST_INIT_KEYS.has(key)) return null;
  if (options.redirect !== undefined && options.redirect !== "follow") return null;
  const rawMethod = options.method === undefined ? "GET" : options.method;
  if (typeof rawMethod !== "string" || !TOKEN.test(rawMethod)) return null;
  let method = rawMethod;
  if (NORMALIZED_METHODS.has(method.toUpperCase())) method = method.toUpperCase();
  if (method === "CONNECT" || method === "TRACE" || method === "TRACK") return null;
  const headers = headerPairs(options.headers);
  if (headers === null) return null;
  let body: Uint8Array | null = null;
  const rawBody = options.body;
  if (rawBody !== undefined && rawBody !== null) {
    if (method === "GET" || method === "HEAD") return null;
    if (typeof rawBody === "string") {
      body = Buffer.from(rawBody, "utf8");
      if (!headers.some(([k]) => k.toLowerCase() === "content-type")) headers.push(["content-type", "text/plain;charset=UTF-8"]);
    } else if (isBytes(rawBody)) {
      // Copied, as fetch does: the caller may reuse its buffer once fetch returns.
      body = ArrayBuffer.isView(rawBody)
        ? Buffer.from(new Uint8Array(rawBody.buffer, rawBody.byteOffset, rawBody.byteLength))
        : Buffer.from(new Uint8Array(rawBody));
    } else return null;
  }
  const signal = options.signal ?? null;
  if (signal !== null && (typeof signal !== "object" || typeof (signal as AbortSignal).addEventListener !== "function")) return null;
  return { url, options: target.options, method, headers, body, signal: signal as AbortSignal | null };
}

/** What undici's fetch adds when the caller did not set it, so the upstream sees the same request. */
const DEFAULT_HEADERS: Record<"http:" | "https:", [string, string][]> = {
  "http:": [["accept", "*/*"], ["accept-language", "*"], ["sec-fetch-mode", "cors"], ["user-agent", "undici"], ["accept-encoding", "gzip, deflate"]],
  "https:": [["accept", "*/*"], ["accept-language", "*"], ["sec-fetch-mode", "cors"], ["user-agent", "undici"], ["accept-encoding", "br, gzip, deflate"]],
};

/**
 * The headers on the wire: the caller's, one entry per name (case-insensitive, the first
 * spelling kept, values joined as Headers joins them), then undici's defaults the caller did not
 * set, then our own Content-Length. The length is always ours: a caller's own (stripe-node sends
 * one) would otherwise be joined with it into "13, 13", which servers refuse with a 400.
 */
function wireHeaders(req: FastRequest): Record<string, string> {
  const byName = new Map<string, [string, string]>();
  for (const [name, value] of req.headers) {
    const key = name.toLowerCase();
    if (key === "content-length") continue;
    const prev = byName.get(key);
    byName.set(key, prev === undefined ? [name, value] : [prev[0], `${prev[1]}, ${value}`]);
  }
  for (const pair of DEFAULT_HEADERS[req.url.protocol as "http:" | "https:"]) if (!byName.has(pair[0])) byName.set(pair[0], pair);
  if (req.body !== null || req.method === "POST" || req.method === "PUT") {
    byName.set("content-length", ["content-length", String(req.body?.length ?? 0)]);
  }
  const out: Record<string, string> = {};
  for (const [name, value] of byName.values()) out[name] = value;
  return out;
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("This operation was aborted", "AbortError");
}

/** The reply headers this module decides on, as `res.headers` gives them (the first of repeated ones). */
interface ReplyHeaders {
  "keep-alive"?: string;
  location?: string;
  "content-length"?: string;
  "content-encoding"?: string;
  "content-type"?: string;
}

const REPLY_HEADERS = new Set<string>(["keep-alive", "location", "content-length", "content-encoding", "content-type"]);

/**
 * The few headers the fetch reads, from the raw pairs in one pass: `res.headers` builds an
 * object of every header, lower-casing and classifying each name, for five lookups (the
 * `Response` gets the raw pairs anyway).
 */
export function replyHeaders(raw: readonly string[]): ReplyHeaders {
  const picked: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    if (REPLY_HEADERS.has(name) && picked[name] === undefined) picked[name] = raw[i + 1];
  }
  return picked;
}

/** The reply's body as fetch decodes it (gzip, deflate, br), or as it came. */
function decoded(res: http.IncomingMessage, headers: ReplyHeaders): Readable {
  const coding = (headers["content-encoding"] ?? "").trim().toLowerCase();
  if (coding === "gzip" || coding === "x-gzip") return res.pipe(createGunzip({ flush: 2, finishFlush: 2 }));
  if (coding === "deflate") return res.pipe(createInflate({ flush: 2, finishFlush: 2 }));
  if (coding === "br") return res.pipe(createBrotliDecompress());
  return res;
}

/**
 * The chunks' bytes in one fresh buffer of their own (not a slice of Node's socket buffers or
 * pool, which functions must not see or keep alive), copied once.
 */
export function ownBytes(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return new Uint8Array(chunks[0]);
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

function headerPairsOf(raw: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) pairs.push([raw[i], raw[i + 1]]);
  return pairs;
}

export function createHostFetch(fallback: Fetch, ResponseCtor: ResponseClass, ReadableStreamCtor: ReadableStreamClass): HostFetch {
  // The reply's headers as Node parsed them (checked already) go straight into the Response's
  // header list (primitives.ts); the plain constructor when the primitives are not patched.
  const factory = (ResponseCtor as unknown as Record<symbol, unknown>)[TRUSTED_RESPONSE];
  const trustedResponse = typeof factory === "function"
    ? (factory as (body: unknown, status: number, statusText: string, raw: string[]) => Response).bind(ResponseCtor)
    : null;
  // Idle sockets are kept as undici keeps them (idleTimeoutMs): 4 s, or the server's Keep-Alive
  // hint less 2 s, so a reused socket is rarely one the server has just closed.
  const agents = {
    "http:": new http.Agent({ keepAlive: true, timeout: IDLE_DEFAULT_MS, scheduling: "lifo" }),
    "https:": new https.Agent({ keepAlive: true, timeout: IDLE_DEFAULT_MS, scheduling: "lifo" }),
  };
  for (const agent of Object.values(agents)) agent.keepSocketAlive = keepSocketAliveLikeUndici;

  function send(req: FastRequest, init: Record<string, unknown> | undefined): Promise<Response> {
    const { signal } = req;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Response>((resolve, reject) => {
      const lib = req.url.protocol === "https:" ? https : http;
      let settled = false;
      let body: Readable | null = null;
      let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
      const onAbort = () => {
        const reason = abortReason(signal!);
        outgoing.destroy();
        body?.destroy();
        if (!settled) {
          settled = true;
          reject(reason);
        } else {
          try {
            controller?.error(reason);
          } catch {
            // Already closed or errored.
          }
        }
      };
      const done = () => signal?.removeEventListener("abort", onAbort);
      const outgoing = lib.request({
        ...req.options,
        method: req.method,
        agent: agents[req.url.protocol as "http:" | "https:"],
        headers: wireHeaders(req),
      });
      outgoing.on("error", (error) => {
        done();
        if (!settled) {
          settled = true;
          reject(new TypeError("fetch failed", { cause: error }));
        }
      });
      outgoing.on("response", (res) => {
        const status = res.statusCode ?? 0;
        const headers = replyHeaders(res.rawHeaders);
        (res.socket as PooledSocket)[KEEP_ALIVE_HINT] = headers["keep-alive"];
        const location = headers.location;
        if (REDIRECTS.has(status) && location !== undefined) {
          // The next hop is EdgeVM's fetch, which follows the rest of the chain.
          res.resume();
          done();
          settled = true;
          resolve(followRedirect(req, init, status, location));
          return;
        }
        const respond = (body: ReadableStream<Uint8Array> | Uint8Array<ArrayBuffer> | null) => {
          let response: Response;
          try {
            response = trustedResponse !== null
              ? trustedResponse(body, status, res.statusMessage ?? "", res.rawHeaders)
              : new ResponseCtor(body, { status, statusText: res.statusMessage ?? "", headers: headerPairsOf(res.rawHeaders) });
          } catch (error) {
            // A status the Response constructor refuses (not 200-599): undici fails the fetch too.
            res.destroy();
            done();
            settled = true;
            reject(new TypeError("fetch failed", { cause: error }));
            return;
          }
          Object.defineProperty(response, "url", { value: req.url.href });
          settled = true;
          resolve(response);
        };
        const length = Number(headers["content-length"] ?? Number.NaN);
        const whole = !NULL_BODY.has(status) && req.method !== "HEAD" && headers["content-encoding"] === undefined &&
          Number.isInteger(length) && length >= 0 && length <= WHOLE_BODY_MAX &&
          !String(headers["content-type"] ?? "").toLowerCase().includes("text/event-stream");
        if (whole) {
          body = res;
          const chunks: Buffer[] = [];
          let received = 0;
          // Once the declared length is in, the body is complete (HTTP's framing says so): fetch
          // resolves then, not at 'end' a turn of the stream later, which only frees the socket.
          res.on("data", (chunk: Buffer) => {
            chunks.push(chunk);
            received += chunk.length;
            if (received === length && !settled) respond(ownBytes(chunks));
          });
          res.once("end", () => {
            done();
            if (!settled) respond(ownBytes(chunks));
          });
          // Cut off midway: fetch still resolves (the headers came), and reading the body fails
          // after what did arrive, as with a streamed body.
          const broke = (error?: Error) => {
            done();
            if (settled || signal?.aborted) return;
            let received: Uint8Array | null = ownBytes(chunks);
            respond(new ReadableStreamCtor<Uint8Array>({
              // What arrived is read first (error() would drop a queued chunk), then the failure.
              pull(c) {
                if (received !== null && received.length > 0) c.enqueue(received);
                else c.error(new TypeError("terminated", { cause: error }));
                received = null;
              },
            }));
          };
          res.once("error", broke);
          res.once("close", () => {
            if (!res.complete) broke(new Error("The connection closed before the body ended."));
          });
          return;
        }
        let stream: ReadableStream<Uint8Array> | null = null;
        if (NULL_BODY.has(status) || req.method === "HEAD") {
          res.resume();
          done();
        } else {
          const source = decoded(res, headers);
          body = source;
          stream = new ReadableStreamCtor<Uint8Array>({
            start(c) {
              controller = c;
              source.on("data", (chunk: Buffer) => {
                // A fresh Uint8Array (not the socket's Buffer): functions see plain bytes.
                c.enqueue(new Uint8Array(chunk));
                if ((c.desiredSize ?? 1) <= 0) source.pause();
              });
              source.once("end", () => {
                done();
                c.close();
              });
              const fail = (error?: Error) => {
                done();
                if (signal?.aborted) return;
                try {
                  c.error(new TypeError("terminated", { cause: error }));
                } catch {
                  // Already closed or errored.
                }
              };
              source.once("error", fail);
              res.once("close", () => {
                if (!res.complete) fail(new Error("The connection closed before the body ended."));
              });
            },
            pull() {
              source.resume();
            },
            cancel() {
              done();
              source.destroy();
              res.destroy();
            },
          });
        }
        respond(stream);
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      outgoing.end(req.body ?? undefined);
    });
  }

  /** The Fetch standard's method and body rules for the next hop, then EdgeVM's fetch. */
  function followRedirect(req: FastRequest, init: Record<string, unknown> | undefined, status: number, location: string): Promise<Response> {
    let next: URL;
    try {
      next = new URL(location, req.url);
    } catch {
      return Promise.reject(new TypeError("fetch failed", { cause: new Error(`Invalid redirect location ${location}`) }));
    }
    let method = req.method;
    let headers = req.headers;
    let body: Uint8Array | null = req.body;
    if ((status === 303 && method !== "GET" && method !== "HEAD") || ((status === 301 || status === 302) && method === "POST")) {
      method = "GET";
      body = null;
      const dropped = new Set(["content-type", "content-length", "content-encoding", "content-language", "content-location"]);
      headers = headers.filter(([k]) => !dropped.has(k.toLowerCase()));
    }
    if (next.origin !== req.url.origin) {
      const dropped = new Set(["authorization", "proxy-authorization", "cookie"]);
      headers = headers.filter(([k]) => !dropped.has(k.toLowerCase()));
    }
    return fallback(next.href, { ...init, method, headers, body, redirect: "follow" });
  }

  return {
    fetch(input: unknown, init?: unknown): Promise<Response> {
      const req = fastRequest(input, init);
      if (req === null) return fallback(input, init);
      return send(req, init as Record<string, unknown> | undefined);
    },
    close() {
      for (const agent of Object.values(agents)) agent.destroy();
    },
  };
}
