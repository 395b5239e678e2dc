// Telnyx numbers and messaging with signed inbound webhooks, and Signal registration completed by
// the code that arrives on that webhook: the unattended phone + Signal provisioning path.
import { createPublicKey, verify } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startSimulator, type RunningSimulator } from "./server.ts";
import { SIGNAL_SMS_SENDER } from "./signal.ts";
import { telnyxPublicKey } from "./telnyx.ts";

let sim: RunningSimulator;
let receiver: http.Server;
let hooks: { headers: http.IncomingHttpHeaders; body: string }[] = [];

beforeAll(async () => {
  receiver = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      hooks.push({ headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  sim = await startSimulator({ port: 0, useEnv: false });
});

afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => receiver.close(resolve));
});

beforeEach(() => {
  sim.reset();
  hooks = [];
  sim.configure({ telnyx: { webhookUrl: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/telnyx` } });
});

async function call(method: string, path: string, body?: unknown, key = "KEY_simulator") {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function buyNumber(): Promise<{ id: string; phone: string }> {
  const search = await call("GET", "/v2/available_phone_numbers?filter[country_code]=US&filter[features][]=sms&filter[limit]=1");
  expect(search.status).toBe(200);
  const phone = search.json.data[0].phone_number as string;
  const order = await call("POST", "/v2/number_orders", { phone_numbers: [{ phone_number: phone }], messaging_profile_id: "mp_1" });
  expect(order.status).toBe(200);
  expect(order.json.data).toMatchObject({ record_type: "number_order", status: "success" });
  return { id: order.json.data.phone_numbers[0].id, phone };
}

/** Verifies a webhook the way the app must: ed25519 over `${timestamp}|${body}`. */
function signatureValid(hook: { headers: http.IncomingHttpHeaders; body: string }, publicKeyBase64 = telnyxPublicKey()): boolean {
  const key = createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(publicKeyBase64, "base64").toString("base64url") }, format: "jwk" });
  const signed = Buffer.from(`${hook.headers["telnyx-timestamp"]}|${hook.body}`);
  return verify(null, signed, key, Buffer.from(String(hook.headers["telnyx-signature-ed25519"]), "base64"));
}

describe("telnyx", () => {
  it("searches, orders, lists and releases numbers in the fictional 555-01xx range", async () => {
    const { id, phone } = await buyNumber();
    expect(phone).toMatch(/^\+1\d{3}55501\d{2}$/);
    const again = await call("GET", "/v2/available_phone_numbers?filter[country_code]=US&filter[limit]=5");
    expect(again.json.data.map((n: { phone_number: string }) => n.phone_number)).not.toContain(phone);
    await expect(call("GET", `/v2/phone_numbers/${id}`)).resolves.toMatchObject({ status: 200, json: { data: { phone_number: phone, status: "active" } } });
    await expect(call("DELETE", `/v2/phone_numbers/${id}`)).resolves.toMatchObject({ status: 200, json: { data: { status: "deleted" } } });
    const gone = await call("GET", `/v2/phone_numbers/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.json.errors[0]).toMatchObject({ code: "10005", title: "Resource not found" });
  });

  it("sends from an owned number and refuses a foreign one", async () => {
    const { phone } = await buyNumber();
    const sent = await call("POST", "/v2/messages", { from: phone, to: "+12025550123", text: "hello" });
    expect(sent.json.data).toMatchObject({ record_type: "message", direction: "outbound", text: "hello", to: [{ phone_number: "+12025550123", status: "queued" }] });
    const refused = await call("POST", "/v2/messages", { from: "+12025550999", to: "+12025550123", text: "x" });
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0]).toMatchObject({ code: "40305" });
  });

  it("answers 401 in Telnyx's error shape for a bad key", async () => {
    const response = await call("GET", "/v2/phone_numbers", undefined, "KEY_invalid");
    expect(response.status).toBe(401);
    expect(response.json).toEqual({ errors: [{ code: "10009", title: "Authentication failed", detail: expect.any(String) }] });
  });

  it("delivers inbound SMS as a message.received webhook signed with the stable key", async () => {
    const { phone } = await buyNumber();
    const control = await fetch(`${sim.url}/_sim/telnyx/inbound`, { method: "POST", body: JSON.stringify({ from: "+12025550111", to: phone, text: "hi there" }) });
    expect(control.status).toBe(200);
    expect(hooks).toHaveLength(1);
    const event = JSON.parse(hooks[0].body);
    expect(event.data).toMatchObject({ event_type: "message.received", payload: { from: { phone_number: "+12025550111" }, to: [{ phone_number: phone }], text: "hi there" } });
    expect(signatureValid(hooks[0])).toBe(true);
    expect(signatureValid({ ...hooks[0], body: hooks[0].body.replace("hi there", "hi thera") })).toBe(false);
    // The key is derived from a fixed seed: the same on every run, so env files can carry it.
    expect(telnyxPublicKey()).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});

describe("signal-cli-rest-api", () => {
  it("registers a Telnyx number with the code texted to it, then sends and receives", async () => {
    const { phone } = await buyNumber();
    const register = await fetch(`${sim.url}/v1/register/${encodeURIComponent(phone)}`, { method: "POST", body: "{}" });
    expect(register.status).toBe(201);
    expect(hooks).toHaveLength(1);
    const sms = JSON.parse(hooks[0].body).data.payload;
    expect(sms.from.phone_number).toBe(SIGNAL_SMS_SENDER);
    const code = /Your Signal code: (\d{6})/.exec(sms.text)![1];

    const wrong = await fetch(`${sim.url}/v1/register/${encodeURIComponent(phone)}/verify/${code === "000000" ? "111111" : "000000"}`, { method: "POST" });
    expect(wrong.status).toBe(400);
    expect(await wrong.json()).toEqual({ error: expect.stringContaining("incorrect") });
    const right = await fetch(`${sim.url}/v1/register/${encodeURIComponent(phone)}/verify/${code}`, { method: "POST" });
    expect(right.status).toBe(201);
    await expect(fetch(`${sim.url}/v1/accounts`).then((r) => r.json())).resolves.toEqual([phone]);

    // A second registered account on the simulator receives what the first sends.
    const other = "+12025550177";
    await fetch(`${sim.url}/v1/register/${encodeURIComponent(other)}`, { method: "POST", body: JSON.stringify({ use_voice: true }) });
    const { accounts } = await fetch(`${sim.url}/_sim/signal`).then((r) => r.json());
    const otherCode = accounts.find((a: { number: string }) => a.number === other).code;
    await fetch(`${sim.url}/v1/register/${encodeURIComponent(other)}/verify/${otherCode}`, { method: "POST" });

    const sent = await fetch(`${sim.url}/v2/send`, { method: "POST", body: JSON.stringify({ number: phone, recipients: [other], message: "ping" }) });
    expect(sent.status).toBe(201);
    const { timestamp } = await sent.json();
    const inbox = await fetch(`${sim.url}/v1/receive/${encodeURIComponent(other)}`).then((r) => r.json());
    expect(inbox).toEqual([{ account: other, envelope: expect.objectContaining({ sourceNumber: phone, timestamp: Number(timestamp), dataMessage: expect.objectContaining({ message: "ping" }) }) }]);
    // Messages are handed out once.
    await expect(fetch(`${sim.url}/v1/receive/${encodeURIComponent(other)}`).then((r) => r.json())).resolves.toEqual([]);

    expect((await fetch(`${sim.url}/v1/unregister/${encodeURIComponent(phone)}`, { method: "POST" })).status).toBe(204);
    const afterUnregister = await fetch(`${sim.url}/v2/send`, { method: "POST", body: JSON.stringify({ number: phone, recipients: [other], message: "x" }) });
    expect(afterUnregister.status).toBe(400);
  });

  it("demands a captcha when configured to", async () => {
    sim.configure({ signal: { requireCaptcha: true } });
    const refused = await fetch(`${sim.url}/v1/register/%2B12025550166`, { method: "POST", body: "{}" });
    expect(refused.status).toBe(400);
    expect((await refused.json()).error).toContain("Captcha required");
    const accepted = await fetch(`${sim.url}/v1/register/%2B12025550166`, { method: "POST", body: JSON.stringify({ captcha: "signalcaptcha://token" }) });
    expect(accepted.status).toBe(201);
  });
});

describe("what identity provisioning needs", () => {
  it("finds orders by customer_reference and assigns a messaging profile to a number", async () => {
    const search = await call("GET", "/v2/available_phone_numbers?filter[country_code]=US&filter[limit]=2");
    const [a, b] = search.json.data.map((n: { phone_number: string }) => n.phone_number as string);
    await call("POST", "/v2/number_orders", { phone_numbers: [{ phone_number: a }], customer_reference: "acct-a" });
    await call("POST", "/v2/number_orders", { phone_numbers: [{ phone_number: b }], customer_reference: "acct-b" });
    const found = await call("GET", "/v2/number_orders?filter[customer_reference]=acct-b");
    expect(found.json.data).toHaveLength(1);
    expect(found.json.data[0]).toMatchObject({ customer_reference: "acct-b", status: "success", phone_numbers: [{ phone_number: b }] });
    expect((await call("GET", `/v2/number_orders/${found.json.data[0].id}`)).json.data.id).toBe(found.json.data[0].id);
    const patched = await call("PATCH", `/v2/messaging_phone_numbers/${encodeURIComponent(a)}`, { messaging_profile_id: "mp_live" });
    expect(patched).toMatchObject({ status: 200, json: { data: { phone_number: a, messaging_profile_id: "mp_live" } } });
    expect((await call("PATCH", "/v2/messaging_phone_numbers/%2B12015550999", { messaging_profile_id: "x" })).status).toBe(404);
    // Two numbers, two ids (ids are 19-digit strings, as Telnyx's are).
    const numbers = (await call("GET", "/v2/phone_numbers")).json.data as { id: string }[];
    expect(new Set(numbers.map((n) => n.id)).size).toBe(2);
  });

  it("providerFaults: a latency range and a failure rate on one provider's routes only", async () => {
    sim.configure({ providerFaults: { telnyx: { latencyMinMs: 100, latencyMaxMs: 300, failProbability: 0.5, failStatus: 503 } } });
    const statuses: number[] = [];
    const started = Date.now();
    for (let i = 0; i < 20; i++) statuses.push((await call("GET", "/v2/phone_numbers")).status);
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(20 * 100);
    expect(elapsed).toBeLessThan(20 * 300 + 2_000);
    const failures = statuses.filter((s) => s === 503).length;
    expect(failures).toBeGreaterThan(2);
    expect(failures).toBeLessThan(18);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    // Signal's routes are not touched by Telnyx's faults.
    const t0 = Date.now();
    expect((await fetch(`${sim.url}/v1/about`)).status).toBe(200);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(() => sim.configure({ providerFaults: { telnyx: { latencyMinMs: 300, latencyMaxMs: 100 } } })).toThrow(/latencyMaxMs/);
    expect(() => sim.configure({ providerFaults: { stripe: {} } } as never)).toThrow(/unknown provider/);
  });
});
