// ctx.meta.getRequestMetadata() through the runtime, with the real clients: the caller's
// address over WebSocket, the HTTP API and httpActions, and the X-Forwarded-For opt-in.
import { mkdtempSync, rmSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import WebSocket from "ws";
import { firstForwardedHop, normalizeIp, requestMetadataOf } from "./requestMetadata.ts";
import { startRuntime, type Runtime } from "./server.ts";

const functionsDir = path.join(import.meta.dirname, "fixtures/convex");
const ipOfMutation = makeFunctionReference<"mutation", Record<string, never>, string | null>("requests:ipOfMutation");
const ipOfAction = makeFunctionReference<"action", Record<string, never>, string | null>("requests:ipOfAction");
const metadataOfMutation = makeFunctionReference<"mutation", Record<string, never>, { ip: string | null; userAgent: string | null }>(
  "requests:metadataOfMutation",
);

const FORWARDED = "203.0.113.7";
const dataDir = mkdtempSync(path.join(tmpdir(), "runtime-request-metadata-"));

function boot(trustForwardedFor: boolean) {
  return startRuntime({
    logger: { info: () => {}, error: () => {} },
    port: 0,
    sitePort: 0,
    persist: false,
    dataDir,
    functionsDir,
    readEnvLocal: false,
    trustForwardedFor,
  });
}

/** A ws WebSocket that sends these headers with its upgrade request. */
function socketWith(headers: Record<string, string>) {
  return class extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols, { headers });
    }
  };
}

function wsClient(rt: Runtime, headers: Record<string, string> = {}) {
  return new ConvexClient(rt.urls.cloud, { webSocketConstructor: socketWith(headers) as never, unsavedChangesWarning: false });
}

function httpClient(rt: Runtime, headers: Record<string, string> = {}) {
  const withHeaders: typeof fetch = (input, init) =>
    fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers)), ...headers } });
  return new ConvexHttpClient(rt.urls.cloud, { fetch: withHeaders });
}

async function ipRoute(rt: Runtime, headers: Record<string, string> = {}) {
  const res = await fetch(`${rt.urls.site}/ip`, { headers });
  return (await res.json()) as { ip: string | null; userAgent: string | null; nested: string | null };
}

let plain: Runtime;
let trusting: Runtime;

beforeAll(async () => {
  [plain, trusting] = await Promise.all([boot(false), boot(true)]);
});

afterAll(async () => {
  await Promise.all([plain?.close(), trusting?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("request metadata (default: the socket's address)", () => {
  it("a mutation and an action over the WebSocket see the client's address; X-Forwarded-For is ignored", async () => {
    const c = wsClient(plain, { "x-forwarded-for": FORWARDED, "user-agent": "ws-test/1" });
    expect(await c.mutation(ipOfMutation, {})).toBe("127.0.0.1");
    expect(await c.action(ipOfAction, {})).toBe("127.0.0.1");
    // The User-Agent of the upgrade request, as for a browser's connection.
    expect(await c.mutation(metadataOfMutation, {})).toEqual({ ip: "127.0.0.1", userAgent: "ws-test/1" });
    await c.close();
  });

  it("the HTTP API (ConvexHttpClient): the request's address and User-Agent", async () => {
    const h = httpClient(plain, { "x-forwarded-for": FORWARDED, "user-agent": "http-test/1" });
    expect(await h.mutation(ipOfMutation, {})).toBe("127.0.0.1");
    expect(await h.action(ipOfAction, {})).toBe("127.0.0.1");
    expect(await h.mutation(metadataOfMutation, {})).toEqual({ ip: "127.0.0.1", userAgent: "http-test/1" });
  });

  it("an httpAction and the mutation it calls see the request's address", async () => {
    expect(await ipRoute(plain, { "x-forwarded-for": FORWARDED, "user-agent": "site-test/1" })).toEqual({
      ip: "127.0.0.1",
      userAgent: "site-test/1",
      nested: "127.0.0.1",
    });
  });

  it("calls no client made (the admin's rt.run) have no address", async () => {
    expect(await plain.run("mutation", "requests:ipOfMutation")).toBeNull();
  });
});

describe("request metadata with trustForwardedFor (load tests)", () => {
  it("WebSocket: the first X-Forwarded-For hop of the upgrade request", async () => {
    const c = wsClient(trusting, { "x-forwarded-for": `${FORWARDED}, 10.0.0.1` });
    expect(await c.mutation(ipOfMutation, {})).toBe(FORWARDED);
    expect(await c.action(ipOfAction, {})).toBe(FORWARDED);
    await c.close();
  });

  it("each WebSocket connection keeps its own address", async () => {
    const a = wsClient(trusting, { "x-forwarded-for": "198.51.100.1" });
    const b = wsClient(trusting, { "x-forwarded-for": "198.51.100.2" });
    expect(await Promise.all([a.mutation(ipOfMutation, {}), b.mutation(ipOfMutation, {})])).toEqual([
      "198.51.100.1",
      "198.51.100.2",
    ]);
    await Promise.all([a.close(), b.close()]);
  });

  it("HTTP API and httpActions: the first hop of the request", async () => {
    const h = httpClient(trusting, { "x-forwarded-for": FORWARDED });
    expect(await h.mutation(ipOfMutation, {})).toBe(FORWARDED);
    expect(await h.action(ipOfAction, {})).toBe(FORWARDED);
    expect(await ipRoute(trusting, { "x-forwarded-for": FORWARDED })).toMatchObject({ ip: FORWARDED, nested: FORWARDED });
  });

  it("without the header, or with one that is not an address, the socket's address", async () => {
    const c = wsClient(trusting);
    expect(await c.mutation(ipOfMutation, {})).toBe("127.0.0.1");
    await c.close();
    expect(await httpClient(trusting).mutation(ipOfMutation, {})).toBe("127.0.0.1");
    expect((await ipRoute(trusting, { "x-forwarded-for": "unknown" })).ip).toBe("127.0.0.1");
  });
});

describe("requestMetadataOf", () => {
  const req = (headers: Record<string, string | string[]>, remoteAddress = "::ffff:127.0.0.1") =>
    ({ headers, socket: { remoteAddress } }) as unknown as IncomingMessage;

  it("the socket's address (IPv4-mapped shown as IPv4) unless told to trust the header", () => {
    expect(requestMetadataOf(req({ "x-forwarded-for": FORWARDED, "user-agent": "ua" }), false)).toEqual({
      ip: "127.0.0.1",
      userAgent: "ua",
    });
    expect(requestMetadataOf(req({ "x-forwarded-for": FORWARDED }), true)).toEqual({ ip: FORWARDED, userAgent: null });
    expect(requestMetadataOf(req({}, "::1"), true).ip).toBe("::1");
  });

  it("firstForwardedHop: the client end of the chain, only when it is an IP", () => {
    expect(firstForwardedHop(" 2001:db8::1 , 10.0.0.1")).toBe("2001:db8::1");
    expect(firstForwardedHop(["198.51.100.9, 10.0.0.1", "10.0.0.2"])).toBe("198.51.100.9");
    expect(firstForwardedHop("::ffff:198.51.100.9")).toBe("198.51.100.9");
    expect(firstForwardedHop("not-an-ip, 10.0.0.1")).toBeNull();
    expect(firstForwardedHop("")).toBeNull();
    expect(firstForwardedHop(undefined)).toBeNull();
    expect(normalizeIp(undefined)).toBeNull();
  });
});
