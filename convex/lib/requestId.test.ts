// Request ids: which client ids are accepted, one id per request, every proxy answer carrying it
// (refusals before any database read, unknown routes, the last-resort 500 and its log line).
import { afterEach, describe, expect, test, vi } from "vitest";
import { withOpenAiErrors } from "../proxy/respond";
import { newTest } from "../test.setup";
import { CLIENT_REQUEST_ID_HEADER, requestIdsOf, REQUEST_ID_HEADER, saneClientRequestId, withRequestIdHeaders } from "./requestId";

const OURS = /^req_[0-9A-Za-z]{24}$/;

afterEach(() => {
  vi.restoreAllMocks();
});

describe("client request ids", () => {
  test.each([
    ["abc-123", "abc-123"],
    ["  trace.4f:2_a  ", "trace.4f:2_a"],
    ["x".repeat(128), "x".repeat(128)],
  ])("accepts %j", (value, expected) => {
    expect(saneClientRequestId(value)).toBe(expected);
  });

  test.each([
    ["empty", ""],
    ["too long", "x".repeat(129)],
    ["a line break (log forging)", "abc\nERROR forged"],
    ["spaces inside", "a b"],
    ["quotes and braces", '{"a":1}'],
    ["non-ASCII", "réq"],
    ["missing", null],
  ])("refuses %s", (_name, value) => {
    expect(saneClientRequestId(value)).toBeNull();
  });

  test("one id per request, always ours; a sane client id rides along, x-client-request-id first", () => {
    const plain = new Request("http://x/v1/models");
    const a = requestIdsOf(plain);
    expect(a.requestId).toMatch(OURS);
    expect(requestIdsOf(plain)).toBe(a);
    expect(requestIdsOf(new Request("http://x/v1/models")).requestId).not.toBe(a.requestId);

    const withClientId = new Request("http://x", { headers: { [REQUEST_ID_HEADER]: "client-1" } });
    // The client's id never becomes ours: ours is the ledger's idempotency key.
    expect(requestIdsOf(withClientId)).toEqual({ requestId: expect.stringMatching(OURS), clientRequestId: "client-1" });
    const both = new Request("http://x", { headers: { [REQUEST_ID_HEADER]: "one", [CLIENT_REQUEST_ID_HEADER]: "two" } });
    expect(requestIdsOf(both).clientRequestId).toBe("two");
    const insane = new Request("http://x", { headers: { [REQUEST_ID_HEADER]: "x".repeat(500) } });
    expect(requestIdsOf(insane).clientRequestId).toBeNull();
  });

  test("stamps a response, keeps a header the handler set, and rebuilds one whose headers are immutable", async () => {
    const ids = { requestId: "req_aaaaaaaaaaaaaaaaaaaaaaaa", clientRequestId: "c-1" };
    const stamped = withRequestIdHeaders(new Response("{}"), ids);
    expect(stamped.headers.get(REQUEST_ID_HEADER)).toBe(ids.requestId);
    expect(stamped.headers.get(CLIENT_REQUEST_ID_HEADER)).toBe("c-1");
    const kept = withRequestIdHeaders(new Response("{}", { headers: { [REQUEST_ID_HEADER]: "req_set_by_handler" } }), ids);
    expect(kept.headers.get(REQUEST_ID_HEADER)).toBe("req_set_by_handler");
    const immutable = Response.redirect("http://x/elsewhere", 302);
    const rebuilt = withRequestIdHeaders(immutable, ids);
    expect(rebuilt.status).toBe(302);
    expect(rebuilt.headers.get("location")).toBe("http://x/elsewhere");
    expect(rebuilt.headers.get(REQUEST_ID_HEADER)).toBe(ids.requestId);
  });
});

describe("every proxy answer carries the id", () => {
  test("a handler that throws: a 500 naming the id, and the log line names both ids", async () => {
    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    const handler = withOpenAiErrors(async () => {
      throw new Error("boom");
    });
    const res = await handler({}, new Request("http://x/v1/chat/completions", { method: "POST", headers: { [REQUEST_ID_HEADER]: "trace-9" } }));
    expect(res.status).toBe(500);
    const id = res.headers.get(REQUEST_ID_HEADER)!;
    expect(id).toMatch(OURS);
    expect(res.headers.get(CLIENT_REQUEST_ID_HEADER)).toBe("trace-9");
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(id);
    expect(String(logged.mock.calls[0][0])).toContain(`request ${id} (client id trace-9)`);
  });

  test.each([
    ["no key", "/v1/chat/completions", "POST", {}, 401],
    ["a malformed key", "/v1/embeddings", "POST", { authorization: "Bearer nope" }, 401],
    ["an unknown key on /v1/models", "/v1/models", "GET", { authorization: `Bearer pk_live_${"a".repeat(40)}` }, 401],
    ["an unknown route", "/v1/nothing-here", "GET", {}, 404],
  ])("%s: %s answers with x-request-id and echoes the client's", async (_name, path, method, headers, status) => {
    const t = newTest();
    const res = await t.fetch(path, { method, headers: { ...headers, [REQUEST_ID_HEADER]: "my-trace-1" } });
    expect(res.status).toBe(status);
    expect(res.headers.get(REQUEST_ID_HEADER)).toMatch(OURS);
    expect(res.headers.get(CLIENT_REQUEST_ID_HEADER)).toBe("my-trace-1");
    expect(res.headers.get("access-control-expose-headers")).toContain(CLIENT_REQUEST_ID_HEADER);
  });
});
