// Graceful shutdown: drain() refuses new connections, lets a stream in flight finish, waits for
// work that runs after a response ended (a mutation from an abort listener), and close() then
// persists it, so a runtime restarted on the same data dir has it.
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { makeFunctionReference } from "convex/server";
import { afterEach, describe, expect, it } from "vitest";
import { startingResponse } from "./drain.ts";
import { startRuntime, type Runtime } from "./server.ts";

const functionsDir = path.join(import.meta.dirname, "fixtures/convex");
const dirs: string[] = [];
const running: Runtime[] = [];

afterEach(async () => {
  for (const rt of running.splice(0)) await rt.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function boot(dataDir: string, port = 0, sitePort = 0): Promise<Runtime> {
  const rt = await startRuntime({
    port,
    sitePort,
    dataDir,
    functionsDir,
    readEnvLocal: false,
    logger: { info: () => {}, error: () => {} },
    env: { TEST_JWT_ISSUER: "http://127.0.0.1:1", TEST_JWKS_URL: "http://127.0.0.1:1/jwks.json" },
  });
  running.push(rt);
  return rt;
}

/** A GET on a fresh connection (no keep-alive pool), resolving with the body or the error. */
function getFresh(url: string): Promise<{ body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent: false }, (res) => {
      let body = "";
      res.on("data", (c: Buffer) => (body += c.toString()));
      res.on("end", () => resolve({ body }));
      res.on("error", (e) => resolve({ error: e.message }));
    });
    req.on("error", (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

describe("drain", () => {
  it("refuses new connections, finishes the stream in flight and reports it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "runtime-drain-"));
    dirs.push(dir);
    const rt = await boot(dir);
    const streamed = getFresh(`${rt.urls.site}/stream`);
    // Let the request reach the handler before draining.
    await new Promise((r) => setTimeout(r, 100));
    const draining = rt.drain({ timeoutMs: 5_000, quietMs: 200 });
    await new Promise((r) => setTimeout(r, 20));
    expect(await getFresh(`${rt.urls.site}/stream`)).toEqual({ error: "ECONNREFUSED" });
    const body = await streamed;
    expect("body" in body && body.body.match(/^data: /gm)?.length).toBe(3);
    const report = await draining;
    expect(report).toMatchObject({ drained: true, inFlightLeft: 0, inFlightAtStart: 1 });
    await rt.close();
  });

  it("waits for a mutation that runs after the response ended, so a restart on the same dir has it", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "runtime-drain-"));
    dirs.push(dir);
    const rt = await boot(dir);
    const controller = new AbortController();
    const res = await fetch(`${rt.urls.site}/settle-later?id=d1`, { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    // The abort's mutation starts 250 ms after the response closed: only the quiet wait covers it.
    const report = await rt.drain({ timeoutMs: 5_000, quietMs: 400 });
    expect(report.drained).toBe(true);
    await rt.close();

    const again = await boot(dir);
    const client = new ConvexHttpClient(again.urls.cloud);
    const list = makeFunctionReference<"query", Record<string, never>, { body: string }[]>("messages:list");
    const messages = await client.query(list, {});
    expect(messages.map((m) => m.body)).toContain("settled d1");
  });

  it("gives up at the deadline with the requests still open", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "runtime-drain-"));
    dirs.push(dir);
    const rt = await boot(dir);
    const controller = new AbortController();
    const res = await fetch(`${rt.urls.site}/forever?id=d2`, { signal: controller.signal });
    await res.body!.getReader().read();
    const report = await rt.drain({ timeoutMs: 300, quietMs: 100 });
    expect(report).toMatchObject({ drained: false, inFlightLeft: 1 });
    expect(report.waitedMs).toBeGreaterThanOrEqual(300);
    controller.abort();
    await rt.close();
  });
});

describe("startingResponse", () => {
  it("answers 503 with retry-after and closes the connection, in OpenAI's and Convex's shapes", async () => {
    const server = http.createServer(startingResponse);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as { port: number };
    const res = await fetch(`http://127.0.0.1:${port}/v1/chat/completions`, { method: "POST", body: "{}" });
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.headers.get("connection")).toBe("close");
    expect(await res.json()).toMatchObject({ code: "Starting", error: { type: "service_unavailable", code: "starting" } });
    await new Promise((r) => server.close(r));
  });
});
