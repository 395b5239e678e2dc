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
});
