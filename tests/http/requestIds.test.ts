// Request ids through the proxy with the real openai SDK and the simulator upstream: the id the
// client sees on a success, a stream and an upstream failure is the usage event's requestId, and
// the log line of each retried upstream attempt names it.
import OpenAI from "openai";
import { afterEach, describe, expect, it, vi } from "vitest";
import { resetProviderHealth } from "../../convex/proxy/providerHealth";
import type { RunningSimulator } from "../../dev/simulator/server";
import { account, clientFor, eventsOf, eventually, type TestConvex, useUpstream } from "./harness";

let sim: RunningSimulator;
let t: TestConvex;

useUpstream({ sim: (s) => (sim = s), t: (x) => (t = x) }, () => {
  process.env.PROXY_RETRY_BASE_DELAY_MS = "5";
  resetProviderHealth();
});
afterEach(() => {
  delete process.env.PROXY_RETRY_BASE_DELAY_MS;
  vi.restoreAllMocks();
});

const messages = [{ role: "user" as const, content: "Which id am I?" }];
const OURS = /^req_[0-9A-Za-z]{24}$/;

describe("request ids through the proxy", { timeout: 30_000 }, () => {
  it("JSON, SSE and an upstream failure: x-request-id is the usage event's requestId; a client id is echoed, not used", async () => {
    const a = await account(t, "ids@example.com");
    const sdk = clientFor(t, a.secret);
    const json = await sdk.chat.completions.create({ model: "gpt-4o-mini", messages }, { headers: { "x-request-id": "client-json-1" } }).withResponse();
    const stream = await sdk.chat.completions.create({ model: "gpt-4o-mini", messages, stream: true }).withResponse();
    for await (const _ of stream.data) {
      // drain
    }
    sim.configure({ fail: { status: 400, count: 1, message: "bad parameter", code: "invalid_value" } });
    const failed = (await sdk.chat.completions.create({ model: "gpt-4o-mini", messages }).catch((e: unknown) => e)) as InstanceType<typeof OpenAI.BadRequestError>;
    expect(failed).toBeInstanceOf(OpenAI.BadRequestError);

    const ids = [json.response.headers.get("x-request-id"), stream.response.headers.get("x-request-id"), failed.requestID];
    for (const id of ids) expect(id).toMatch(OURS);
    expect(json.response.headers.get("x-client-request-id")).toBe("client-json-1");
    expect(ids).not.toContain("client-json-1");
    const events = await eventually(async () => {
      const rows = await eventsOf(t, a.userId);
      return rows.length === 3 ? rows : null;
    });
    expect(events.map((e) => e.requestId).sort()).toEqual([...ids].sort());
    expect(events.find((e) => e.requestId === failed.requestID)).toMatchObject({ status: "upstream_error", httpStatus: 400 });
  });

  it("logs each retried upstream attempt with the request's id", async () => {
    const warn = vi.spyOn(console, "warn").mockImplementation(() => {});
    const a = await account(t, "retry-ids@example.com");
    sim.configure({ fail: { status: 500, count: 2 } });
    const { response } = await clientFor(t, a.secret).chat.completions.create({ model: "gpt-4o-mini", messages }).withResponse();
    const id = response.headers.get("x-request-id")!;
    expect(id).toMatch(OURS);
    const lines = warn.mock.calls.map((c) => String(c[0])).filter((l) => l.startsWith(`request ${id}:`));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(new RegExp(`^request ${id}: openai attempt 1 failed \\(HTTP 500\\), retrying in \\d+ ms$`));
    expect(lines[1]).toContain("attempt 2 failed (HTTP 500)");
  });
});
