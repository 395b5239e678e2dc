// The lazy string/bytes bodies of dev/runtime/primitives.ts: the same observable behaviour as
// undici's eager streams, inside the EdgeVM the functions run in.
import { describe, expect, it } from "vitest";
import { primitivesPatched } from "./primitives.ts";
import { EdgeVM } from "@edge-runtime/vm";

const vm = new EdgeVM();
const run = <T>(code: string): Promise<T> => vm.evaluate(`(async () => { ${code} })()`) as Promise<T>;

describe("lazy body streams", () => {
  it("are installed before EdgeVM loads the primitives", () => {
    expect(primitivesPatched).toBe(true);
  });

  it("read a string body once, then refuse a second read, like undici", async () => {
    const r = await run<{ text: string; used: boolean; again: string; usedBefore: boolean }>(`
      const res = new Response("héllo");
      const usedBefore = res.bodyUsed;
      const text = await res.text();
      let again = "";
      try { await res.text(); } catch (e) { again = e.constructor.name + ": " + e.message; }
      return { text, used: res.bodyUsed, again, usedBefore };
    `);
    expect(r).toEqual({ text: "héllo", used: true, again: "TypeError: Body is unusable: Body has already been read", usedBefore: false });
  });

  it("give the same bytes through body, json(), arrayBuffer() and clone()", async () => {
    const r = await run<Record<string, unknown>>(`
      const bytes = new TextEncoder().encode('{"a":[1,2]}');
      const req = new Request("https://x.test/", { method: "POST", body: bytes });
      bytes[0] = 32; // the body is a copy taken at construction
      const json = await req.json();
      const streamed = new Response("abc");
      const chunks = [];
      const reader = streamed.body.getReader();
      for (let c = await reader.read(); !c.done; c = await reader.read()) chunks.push(...c.value);
      const original = new Response("twice");
      const copy = original.clone();
      const ab = await new Response(new Uint8Array([1, 2, 3])).arrayBuffer();
      return {
        json,
        streamed: chunks,
        streamedUsed: streamed.bodyUsed,
        clone: [await original.text(), await copy.text()],
        ab: [...new Uint8Array(ab)],
        abIsBuffer: ab instanceof ArrayBuffer,
        length: new Response("é").headers.get("content-length"),
        type: new Response("x").headers.get("content-type"),
      };
    `);
    expect(r).toEqual({
      json: { a: [1, 2] },
      streamed: [97, 98, 99],
      streamedUsed: true,
      clone: ["twice", "twice"],
      ab: [1, 2, 3],
      abIsBuffer: true,
      length: null,
      type: "text/plain;charset=UTF-8",
    });
  });

  it("keep a body that was asked for as a stream on the stream path", async () => {
    const r = await run<{ locked: boolean; text: string }>(`
      const res = new Response("streamed");
      const locked = res.body.locked;
      return { locked, text: await res.text() };
    `);
    expect(r).toEqual({ locked: false, text: "streamed" });
  });
});

describe("the runtime's own factories", () => {
  it("build a Request with parsed headers, as new Request with the same headers does, and abort it through its own controller", async () => {
    const r = await run<Record<string, unknown>>(`
      const pairs = [["Content-Type", "application/json"], ["Authorization", "Bearer sk-1"], ["X-Many", "a"], ["x-many", "b"], ["Set-Cookie", "a=1"], ["set-cookie", "b=2"]];
      const body = new TextEncoder().encode('{"a":1}');
      const { request, abort } = Request[Symbol.for("offline-runtime.trustedRequest")]("https://x.test/v1/chat?q=1", "POST", pairs, body);
      const plain = new Request("https://x.test/v1/chat?q=1", { method: "POST", headers: pairs, body });
      const entries = (h) => [...h.entries()];
      let reason = null;
      request.signal.addEventListener("abort", () => { reason = request.signal.reason.name; });
      const before = request.signal.aborted;
      abort();
      return {
        same: JSON.stringify(entries(request.headers)) === JSON.stringify(entries(plain.headers)),
        headers: entries(request.headers),
        cookies: request.headers.getSetCookie(),
        url: request.url, method: request.method, json: await request.json(),
        before, after: request.signal.aborted, reason,
        isRequest: request instanceof Request,
      };
    `);
    expect(r).toEqual({
      same: true,
      headers: [["authorization", "Bearer sk-1"], ["content-type", "application/json"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["x-many", "a, b"]],
      cookies: ["a=1", "b=2"],
      url: "https://x.test/v1/chat?q=1",
      method: "POST",
      json: { a: 1 },
      before: false,
      after: true,
      reason: "AbortError",
      isRequest: true,
    });
  });

  it("build a Response with parsed headers, and give header pairs as forEach does", async () => {
    const r = await run<Record<string, unknown>>(`
      const raw = ["Content-Type", "application/json", "X-Request-Id", "r1", "Set-Cookie", "a=1", "set-cookie", "b=2", "Vary", "a", "vary", "b"];
      const res = Response[Symbol.for("offline-runtime.trustedResponse")](new TextEncoder().encode('{"ok":true}'), 201, "Created", raw);
      const viaForEach = [];
      res.headers.forEach((v, k) => viaForEach.push([k, v]));
      const pairs = Headers[Symbol.for("offline-runtime.headerPairs")](res.headers);
      let refused = "";
      try { Headers[Symbol.for("offline-runtime.headerPairs")]({}); } catch (e) { refused = e.constructor.name; }
      let badStatus = "";
      try { Response[Symbol.for("offline-runtime.trustedResponse")](null, 99, "", []); } catch (e) { badStatus = e.constructor.name; }
      return { status: res.status, statusText: res.statusText, json: await res.json(), same: JSON.stringify(pairs) === JSON.stringify(viaForEach), pairs, refused, badStatus, type: res.headers.get("content-type") };
    `);
    expect(r).toEqual({
      status: 201,
      statusText: "Created",
      json: { ok: true },
      same: true,
      pairs: [["content-type", "application/json"], ["set-cookie", "a=1"], ["set-cookie", "b=2"], ["vary", "a, b"], ["x-request-id", "r1"]],
      refused: "TypeError",
      badStatus: "RangeError",
      type: "application/json",
    });
  });

  // Everything a Request or Response holds (its own symbol-keyed state included), as plain data:
  // the factories set that state directly, so it must be what the constructors leave.
  const NORMALIZE = `
    const norm = (v, depth = 0) => {
      if (v === null || v === undefined || typeof v !== "object") return typeof v === "function" ? "function" : v;
      // Much of it comes from the host's realm (the primitives are loaded there): no instanceof.
      const tag = Object.prototype.toString.call(v);
      if (tag === "[object URL]") return "URL " + v.href;
      if (ArrayBuffer.isView(v)) return "bytes " + Array.from(v).join(",");
      if (tag === "[object Map]") return [...v].map(([k, x]) => [k, norm(x, depth + 1)]);
      if (Array.isArray(v)) return v.map((x) => norm(x, depth + 1));
      if (tag === "[object AbortSignal]") return "signal, aborted: " + v.aborted;
      if (tag === "[object Headers]") {
        // Its list and guard are private: what it holds, and whether it may be changed.
        let change = "changed";
        try { v.append("x-probe", "1"); v.delete("x-probe"); } catch (e) { change = e.constructor.name; }
        return { entries: [...v], change };
      }
      if (depth > 4) return "object";
      const out = { "@class": Object.getPrototypeOf(v)?.constructor?.name };
      for (const k of Object.keys(v)) if (k !== "stream") out[k] = norm(v[k], depth + 1);
      for (const s of Object.getOwnPropertySymbols(v)) out["@" + s.description] = norm(v[s], depth + 1);
      return out;
    };`;

  it("build a Request whose whole state is the constructor's, for every method and body it takes", async () => {
    const r = await run<{ cases: Array<{ fast: unknown; slow: unknown }>; classes: string[] }>(`
      ${NORMALIZE}
      const pairs = [["Content-Type", "application/json"], ["Authorization", "Bearer sk-1"], ["X-Many", "a"], ["x-many", "b"], ["Set-Cookie", "a=1"]];
      const make = Request[Symbol.for("offline-runtime.trustedRequest")].bind(Request);
      const cases = [];
      const classes = [];
      for (const [url, method, body] of [
        ["https://x.test/v1/chat?q=1", "POST", new TextEncoder().encode('{"a":1}')],
        ["https://x.test/", "GET", null],
        ["https://x.test/a%20b", "delete", null],
        ["https://x.test/put", "put", new Uint8Array([1, 2, 3])],
        ["https://x.test/empty", "POST", new Uint8Array(0)],
      ]) {
        const { request } = make(url, method, pairs, body);
        const slow = new Request(url, body === null ? { method, headers: pairs, duplex: "half" } : { method, headers: pairs, body, duplex: "half" });
        classes.push(request.constructor === Request ? "Request" : "other");
        cases.push({ fast: norm(request), slow: norm(slow) });
      }
      return { cases, classes };
    `);
    expect(r.classes).toEqual(["Request", "Request", "Request", "Request", "Request"]);
    for (const c of r.cases) expect(c.fast).toEqual(c.slow);
  });

  it("give a Request's signal its abort when it was aborted before anyone read it", async () => {
    const r = await run<Record<string, unknown>>(`
      const make = Request[Symbol.for("offline-runtime.trustedRequest")].bind(Request);
      const { request, abort } = make("https://x.test/", "POST", [], new Uint8Array([1]));
      abort();
      const first = request.signal;
      const { request: unread } = make("https://x.test/", "GET", [], null);
      return {
        aborted: first.aborted, reason: first.reason.name, same: first === request.signal,
        clone: request.clone().signal.aborted,
        fresh: unread.signal.aborted, stable: unread.signal === unread.signal,
      };
    `);
    expect(r).toEqual({ aborted: true, reason: "AbortError", same: true, clone: true, fresh: false, stable: true });
  });

  it("build a Request the constructor's way, errors included, for what the direct path does not take", async () => {
    const r = await run<Record<string, unknown>>(`
      const make = Request[Symbol.for("offline-runtime.trustedRequest")].bind(Request);
      const error = (f) => { try { f(); return "none"; } catch (e) { return e.constructor.name + ": " + e.message; } };
      const custom = make("https://x.test/", "PROPFIND", [["a", "1"]], null).request;
      return {
        custom: [custom.method, custom.headers.get("a")],
        getWithBody: error(() => make("https://x.test/", "GET", [], new Uint8Array([1]))),
        credentials: error(() => make("https://u:p@x.test/", "GET", [], null)),
        badUrl: error(() => make("not a url", "GET", [], null)),
        badMethod: error(() => make("https://x.test/", "BAD METHOD", [], null)),
      };
    `);
    expect(r).toEqual({
      custom: ["PROPFIND", "1"],
      getWithBody: "TypeError: Request with GET/HEAD method cannot have body.",
      credentials: "TypeError: Request cannot be constructed from a URL that includes credentials: https://u:p@x.test/",
      badUrl: "TypeError: Failed to parse URL from not a url",
      badMethod: "TypeError: 'BAD METHOD' is not a valid HTTP method.",
    });
  });

  it("build a Response whose whole state is the constructor's, then Node's headers", async () => {
    const r = await run<{ cases: Array<{ fast: unknown; slow: unknown }> }>(`
      ${NORMALIZE}
      const raw = ["Content-Type", "application/json", "X-Request-Id", "r1", "Set-Cookie", "a=1", "set-cookie", "b=2"];
      const make = Response[Symbol.for("offline-runtime.trustedResponse")].bind(Response);
      const cases = [];
      for (const [body, status, statusText] of [
        [new TextEncoder().encode('{"ok":true}'), 200, "OK"],
        [null, 204, "No Content"],
        [new Uint8Array(0), 500, ""],
        [new ReadableStream({ start(c) { c.enqueue(new Uint8Array([1])); c.close(); } }), 201, "Created"],
      ]) {
        const fast = make(body, status, statusText, raw);
        const slow = new Response(body, { status, statusText });
        for (let i = 0; i < raw.length; i += 2) slow.headers.append(raw[i], raw[i + 1]);
        cases.push({ fast: norm(fast), slow: norm(slow) });
      }
      return { cases };
    `);
    for (const c of r.cases) expect(c.fast).toEqual(c.slow);
  });

  it("refuse a Response the constructor refuses, with its errors", async () => {
    const r = await run<Record<string, string>>(`
      const make = Response[Symbol.for("offline-runtime.trustedResponse")].bind(Response);
      const error = (f) => { try { f(); return "none"; } catch (e) { return e.constructor.name; } };
      return {
        low: error(() => make(null, 199, "", [])),
        high: error(() => make(null, 600, "", [])),
        text: error(() => make(null, 200, "bad\\nreason", [])),
        nullBody: error(() => make(new Uint8Array([1]), 204, "", [])),
        fine: error(() => make(null, 204, "", [])),
      };
    `);
    expect(r).toEqual({ low: "RangeError", high: "RangeError", text: "TypeError", nullBody: "TypeError", fine: "none" });
  });
});
