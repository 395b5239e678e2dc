// The Dex API over real HTTP: the offline runtime (real scheduler, workpool, crons) with the
// development env and the provider simulator as Stripe, Google Workspace, Telnyx and signal-cli.
// A Basic account's identity comes up through a paid checkout; then each endpoint is called
// with its API key and with an OAuth access token from the device flow, and what it did is
// checked on the simulator's side (the mail captured, the Signal message sent, the event stored).
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName } from "convex/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, internal } from "../../convex/_generated/api.js";
import { DEX_API_LIMITS } from "../../convex/model/dexApi/limits";
import { devEnv, devSimulatorBilling } from "../../dev/env";
import type { Runtime } from "../../dev/runtime/server";
import type { RunningSimulator } from "../../dev/simulator/server";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

vi.setConfig({ testTimeout: 60_000 });

let sim: RunningSimulator;
let rt: Runtime;
let stack: RuntimeStack;
/** The Basic account with an active identity. */
let key: string;
let address: string;
let phone: string;
/** The same account through Dex connect, granted `email` and `identity` only. */
let token: string;

const OWNER = "dexapi-owner@example.com";
const INSTANCE = "dex-apitest1";

type Json = Record<string, any>;

async function dex(secret: string | null, method: string, route: string, body?: unknown): Promise<{ status: number; json: Json; headers: Headers }> {
  const res = await fetch(`${rt.urls.site}${route}`, {
    method,
    headers: { ...(secret === null ? {} : { authorization: `Bearer ${secret}` }), ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as Json, headers: res.headers };
}

async function until<T>(check: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function accountWithKey(email: string, plan?: "basic"): Promise<string> {
  return (await stack.account(email, plan)).secret;
}

/** Dex connect's device flow: start, approve as the signed-in owner, redeem. */
async function deviceToken(owner: ConvexHttpClient, scope: string): Promise<string> {
  const started = (await (
    await fetch(`${rt.urls.site}/oauth/device_authorization`, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: new URLSearchParams({ client_id: INSTANCE, scope }) })
  ).json()) as { device_code: string; user_code: string };
  await owner.mutation(api.oauth.device.decide, { userCode: started.user_code, approve: true });
  const tokens = (await (
    await fetch(`${rt.urls.site}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: started.device_code, client_id: INSTANCE }),
    })
  ).json()) as { access_token: string };
  expect(tokens.access_token).toMatch(/^pdx_at_/);
  return tokens.access_token;
}

beforeAll(async () => {
  stack = await startRuntimeStack({ name: "dexapi-runtime", env: ({ dir, simUrl }) => devEnv(dir, simUrl, "http://127.0.0.1:5998") });
  ({ sim, rt } = stack);
  sim.configure(devSimulatorBilling(rt.urls.site));

  key = await accountWithKey(OWNER);
  const checkout = await dex(key, "POST", "/v1/billing/subscribe", { plan: "basic" });
  const session = /\/_sim\/stripe\/checkout\/(cs_[\w]+)/.exec(String(checkout.json.url))?.[1];
  expect((await fetch(`${sim.url}/_sim/stripe/checkout/${session}/complete`, { method: "POST" })).status).toBe(200);
  const identity = await until(async () => {
    const res = await dex(key, "GET", "/v1/identity");
    return res.status === 200 && res.json.status === "active" ? res.json : null;
  }, 60_000);
  address = identity.email.address;
  phone = identity.phone.number;
  token = await deviceToken(await stack.signIn(OWNER), "email identity");
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

describe("authentication: one path for keys and access tokens", () => {
  it("refuses no credentials, an unknown key and an unknown or non-access token with 401 in OpenAI's shape", async () => {
    const none = await dex(null, "GET", "/v1/identity");
    expect(none.status).toBe(401);
    expect(none.json.error).toMatchObject({ type: "invalid_request_error", code: "invalid_api_key" });
    expect((await dex(`pk_live_${"x".repeat(43)}`, "GET", "/v1/identity/email")).status).toBe(401);
    const badToken = await dex(`pdx_at_${"A".repeat(43)}`, "GET", "/v1/email/inbox");
    expect(badToken.status).toBe(401);
    expect(badToken.json.error.code).toBe("invalid_token");
    expect((await dex(`pdx_rt_${"A".repeat(43)}`, "GET", "/v1/identity")).json.error.code).toBe("invalid_token");
  });

  it("an access token reaches what its scopes cover and nothing else", async () => {
    expect((await dex(token, "GET", "/v1/identity")).json).toMatchObject({ object: "identity", email: { address } });
    expect((await dex(token, "GET", "/v1/email/inbox")).status).toBe(200);
    const signal = await dex(token, "POST", "/v1/signal/send", { recipients: ["+12025550199"], message: "hi" });
    expect(signal.status).toBe(403);
    expect(signal.json.error).toMatchObject({ type: "permission_error", code: "insufficient_scope" });
    expect((await dex(token, "GET", "/v1/calendar/events")).json.error.code).toBe("insufficient_scope");
    expect((await dex(token, "GET", "/v1/usage")).json.error.code).toBe("insufficient_scope");
    // Keys and billing take API keys only: a grant cannot mint keys beyond its scopes.
    expect((await dex(token, "POST", "/v1/api-keys", { name: "x" })).json.error.code).toBe("api_key_required");
    expect((await dex(key, "GET", "/v1/api-keys")).status).toBe(200);
  });

  it("a plan without the feature gets 403 feature_not_in_plan; a plan with it but no identity gets identity_not_ready", async () => {
    const trial = await accountWithKey("dexapi-trial@example.com");
    const refused = await dex(trial, "POST", "/v1/email/send", { to: ["a@example.com"], subject: "s", text: "t" });
    expect(refused.status).toBe(403);
    expect(refused.json.error.code).toBe("feature_not_in_plan");
    for (const route of ["/v1/signal/messages", "/v1/calendar/events", "/v1/sms/messages", "/v1/identity/email"]) {
      expect((await dex(trial, "GET", route)).json.error.code).toBe("feature_not_in_plan");
    }
  });

  it("an identity not ready for the operation gets 403 identity_not_ready: Signal waiting for a captcha, a deprovisioned identity", async () => {
    sim.configure({ signal: { requireCaptcha: true } });
    const email = "dexapi-captcha@example.com";
    const other = await accountWithKey(email, "basic");
    try {
      await until(async () => (await dex(other, "GET", "/v1/identity")).json.status === "captcha_needed");
    } finally {
      sim.configure({ signal: { requireCaptcha: false } });
    }
    for (const [method, route, body] of [
      ["POST", "/v1/signal/send", { recipients: ["+12025550199"], message: "m" }],
      ["GET", "/v1/signal/messages", undefined],
      ["GET", "/v1/signal/contacts", undefined],
    ] as const) {
      const res = await dex(other, method, route, body);
      expect(res.status, route).toBe(403);
      expect(res.json.error, route).toMatchObject({ type: "permission_error", code: "identity_not_ready", message: expect.stringContaining("captcha_needed") });
    }
    // The mailbox came up before Signal stopped: mail works meanwhile.
    expect((await dex(other, "GET", "/v1/email/inbox")).status).toBe(200);

    await rt.run("mutation", getFunctionName(internal.cli.deprovisionIdentity), { email, reason: "test: identity gone" });
    for (const [method, route, body] of [
      ["POST", "/v1/email/send", { to: ["a@example.com"], subject: "s", text: "t" }],
      ["GET", "/v1/calendar/events", undefined],
      ["GET", "/v1/sms/messages", undefined],
    ] as const) {
      const res = await dex(other, method, route, body);
      expect(res.status, route).toBe(403);
      expect(res.json.error.code, route).toBe("identity_not_ready");
    }
  });
});

describe("identity", () => {
  it("GET /v1/identity/email, /phone, /signal", async () => {
    expect((await dex(key, "GET", "/v1/identity/email")).json).toEqual({ object: "identity.email", address, ready: true });
    expect((await dex(key, "GET", "/v1/identity/phone")).json).toEqual({ object: "identity.phone", number: phone, sms: true });
    expect((await dex(key, "GET", "/v1/identity/signal")).json).toEqual({ object: "identity.signal", status: "verified", number: phone });
    expect((await dex(key, "GET", "/v1/identity/status")).json.steps.every((s: { status: string }) => s.status === "done")).toBe(true);
  });
});

describe("email", () => {
  it("a mail sent through /v1/email/send is delivered, and one to the mailbox itself shows in the inbox, opens and goes to the trash", async () => {
    const sent = await dex(token, "POST", "/v1/email/send", { to: ["friend@example.com"], cc: [address], subject: "Lunch on Friday?", text: "Noon at the usual place.", html: "<p>Noon at the <b>usual</b> place.</p>" });
    expect(sent.status).toBe(200);
    expect(sent.json).toMatchObject({ object: "email.sent", id: expect.any(String), from: address });
    const captured = (await (await fetch(`${sim.url}/_sim/inbox.json?to=friend@example.com`)).json()) as { messages: { from: string; subject: string; text: string; html: string | null }[] };
    expect(captured.messages.at(-1)).toMatchObject({ from: address, subject: "Lunch on Friday?", text: "Noon at the usual place.", html: "<p>Noon at the <b>usual</b> place.</p>" });

    const inbox = await dex(token, "GET", "/v1/email/inbox?limit=1");
    expect(inbox.status).toBe(200);
    expect(inbox.json.data).toHaveLength(1);
    const [latest] = inbox.json.data as { id: string; subject: string; from: string; unread: boolean }[];
    expect(latest).toMatchObject({ subject: "Lunch on Friday?", from: address, unread: true });
    const opened = await dex(token, "GET", `/v1/email/messages/${latest.id}`);
    expect(opened.json).toMatchObject({ object: "email.message", id: latest.id, text: "Noon at the usual place." });
    expect((await dex(token, "DELETE", `/v1/email/messages/${latest.id}`)).json).toEqual({ object: "email.message", id: latest.id, deleted: true, trashed: true });
    expect((await dex(token, "GET", "/v1/email/inbox")).json.data.map((m: { id: string }) => m.id)).not.toContain(latest.id);
    expect((await dex(token, "DELETE", "/v1/email/messages/nosuchmessage")).status).toBe(404);
  });

  it("pages through the inbox with next_cursor", async () => {
    for (const n of [1, 2, 3]) {
      await fetch(`${sim.url}/_sim/google/gmail/deliver`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: "news@example.org", to: address, subject: `Issue ${n}`, text: `Number ${n}` }) });
    }
    const first = await dex(key, "GET", "/v1/email/inbox?limit=2&q=from:news@example.org");
    expect(first.json.data.map((m: { subject: string }) => m.subject)).toEqual(["Issue 3", "Issue 2"]);
    expect(first.json.next_cursor).toEqual(expect.any(String));
    const second = await dex(key, "GET", `/v1/email/inbox?limit=2&q=from:news@example.org&cursor=${encodeURIComponent(first.json.next_cursor)}`);
    expect(second.json.data.map((m: { subject: string }) => m.subject)).toEqual(["Issue 1"]);
    expect(second.json.next_cursor).toBeNull();
  });

  it("refuses invalid bodies and queries with 400 naming the parameter", async () => {
    const cases: [unknown, string][] = [
      [{ to: ["not-an-address"], subject: "s", text: "t" }, "to.0"],
      [{ to: [], subject: "s", text: "t" }, "to"],
      [{ to: ["a@example.com"], subject: "two\r\nBcc: victim@example.com", text: "t" }, "subject"],
      [{ to: ["a@example.com"], subject: "s" }, "text"],
      [{ to: ["a@example.com"], subject: "s", text: "t", extra: 1 }, ""],
    ];
    for (const [body, param] of cases) {
      const res = await dex(key, "POST", "/v1/email/send", body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.json.error.type).toBe("invalid_request_error");
      if (param) expect(res.json.error.param).toBe(param);
    }
    expect((await dex(key, "GET", "/v1/email/inbox?limit=500")).json.error.param).toBe("limit");
    expect((await dex(key, "GET", "/v1/email/messages/bad%20id")).status).toBe(400);
  });

  it("rate limits sending per plan: Basic's burst, then 429 with retry-after", async () => {
    const { capacity } = DEX_API_LIMITS.basic.email_send;
    // One mail went out in the test above; the bucket refills slowly (10 a minute).
    let refused: Awaited<ReturnType<typeof dex>> | null = null;
    for (let i = 0; i < capacity + 1 && refused === null; i++) {
      const res = await dex(key, "POST", "/v1/email/send", { to: [`bulk${i}@example.com`], subject: `Bulk ${i}`, text: "x" });
      if (res.status === 429) refused = res;
      else expect(res.status).toBe(200);
    }
    expect(refused?.json.error).toMatchObject({ type: "rate_limit_error", code: "rate_limit_exceeded" });
    expect(Number(refused?.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});

describe("Signal and SMS", () => {
  it("a Signal message goes out, and one the simulator delivers appears after the keep-alive receive; the sender is a contact", async () => {
    const sent = await dex(key, "POST", "/v1/signal/send", { recipients: ["+12025550177"], message: "On my way" });
    expect(sent.status).toBe(201);
    const store = (await (await fetch(`${sim.url}/_sim/signal`)).json()) as { sent: { from: string; recipients: string[]; message: string; timestamp: number }[] };
    expect(store.sent.at(-1)).toEqual({ from: phone, recipients: ["+12025550177"], message: "On my way", timestamp: sent.json.timestamp });

    const inbound = await fetch(`${sim.url}/_sim/signal/inbound`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: "+12025550166", to: phone, message: "See you there" }) });
    expect(inbound.status).toBe(200);
    await rt.run("mutation", getFunctionName(internal.identity.maintenance.keepAlive), {});
    const messages = await until(async () => {
      const res = await dex(key, "GET", "/v1/signal/messages");
      return res.json.data?.length ? res.json : null;
    });
    expect(messages.data[0]).toMatchObject({ source: "+12025550166", message: "See you there" });
    const contacts = await dex(key, "GET", "/v1/signal/contacts");
    expect(contacts.json.data.map((c: { number: string }) => c.number)).toEqual(expect.arrayContaining(["+12025550166", "+12025550177"]));
    const invalid = await dex(key, "POST", "/v1/signal/send", { recipients: ["12345"], message: "x" });
    expect(invalid.status).toBe(400);
    expect(invalid.json.error.param).toBe("recipients.0");
  });

  it("an SMS to the number (Telnyx's signed webhook) appears in /v1/sms/messages", async () => {
    const delivered = await fetch(`${sim.url}/_sim/telnyx/inbound`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: "+12025550155", to: phone, text: "Your table is ready" }) });
    expect(delivered.status).toBe(200);
    const sms = await until(async () => {
      const res = await dex(token, "GET", "/v1/sms/messages");
      return res.json.data?.find((m: { text: string }) => m.text === "Your table is ready") ?? null;
    });
    expect(sms).toMatchObject({ from: "+12025550155", to: phone });

    // Pages, newest first, through next_cursor; a cursor we did not issue is a 400.
    await fetch(`${sim.url}/_sim/telnyx/inbound`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: "+12025550155", to: phone, text: "Second text" }) });
    const first = await until(async () => {
      const res = await dex(token, "GET", "/v1/sms/messages?limit=1");
      return res.json.data?.[0]?.text === "Second text" ? res.json : null;
    });
    expect(first.next_cursor).toEqual(expect.any(String));
    const second = await dex(token, "GET", `/v1/sms/messages?limit=1&cursor=${encodeURIComponent(first.next_cursor)}`);
    expect(second.json.data.map((m: { text: string }) => m.text)).toEqual(["Your table is ready"]);
    const bogus = await dex(token, "GET", "/v1/sms/messages?cursor=not-a-cursor");
    expect([bogus.status, bogus.json.error.param]).toEqual([400, "cursor"]);
  });
});

describe("calendar", () => {
  it("creates, lists, replaces and deletes an event of the mailbox user's calendar", async () => {
    const body = { summary: "Dentist", location: "Main St", start: { date_time: "2026-12-03T09:00:00Z" }, end: { date_time: "2026-12-03T10:00:00Z" } };
    const created = await dex(key, "POST", "/v1/calendar/events", body);
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ object: "calendar.event", summary: "Dentist", start: { date_time: "2026-12-03T09:00:00Z" } });
    const id = created.json.id as string;
    const google = (await (await fetch(`${sim.url}/_sim/google`)).json()) as { calendars: Record<string, { id: string; organizer: { email: string } }[]> };
    expect(google.calendars[address].map((e) => e.id)).toContain(id);

    const listed = await dex(key, "GET", "/v1/calendar/events?time_min=2026-12-01T00:00:00Z&time_max=2026-12-31T00:00:00Z");
    expect(listed.json.data.map((e: { id: string }) => e.id)).toEqual([id]);
    const moved = await dex(key, "PUT", `/v1/calendar/events/${id}`, { ...body, summary: "Dentist (moved)", start: { date_time: "2026-12-04T09:00:00Z" }, end: { date_time: "2026-12-04T10:00:00Z" } });
    expect(moved.json).toMatchObject({ id, summary: "Dentist (moved)", start: { date_time: "2026-12-04T09:00:00Z" } });
    expect((await dex(key, "DELETE", `/v1/calendar/events/${id}`)).json).toEqual({ object: "calendar.event", id, deleted: true });
    expect((await dex(key, "DELETE", `/v1/calendar/events/${id}`)).status).toBe(404);
    expect((await dex(key, "PUT", `/v1/calendar/events/${id}`, body)).status).toBe(404);

    const backwards = await dex(key, "POST", "/v1/calendar/events", { ...body, end: { date_time: "2026-12-03T08:00:00Z" } });
    expect(backwards.status).toBe(400);
    expect(backwards.json.error.param).toBe("end");
  });
});

describe("usage", () => {
  it("operations are recorded as usage events and counted in /v1/usage once the rollup folds them", async () => {
    const report = await until(async () => {
      await rt.run("mutation", getFunctionName(internal.usage.rollup.foldEvents), {});
      const res = await dex(key, "GET", "/v1/usage");
      return res.json.operations?.calendar_write >= 2 ? res.json : null;
    }, 40_000);
    expect(report.operations.email_sent).toBeGreaterThanOrEqual(2);
    expect(report.operations.email_deleted).toBe(1);
    expect(report.operations.signal_sent).toBe(1);
    expect(report.operations.calendar_write).toBe(3);
    expect(report.models.some((m: { model: string }) => m.model.startsWith("dex:"))).toBe(false);
  }, 60_000);
});

describe("latency on the offline runtime (informational)", () => {
  it("times reads through each path: key and token authentication, Gmail and Calendar through the simulator", async () => {
    const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
    const timed = async (label: string, secret: string, route: string) => {
      const ms: number[] = [];
      for (let i = 0; i < 12; i++) {
        const started = performance.now();
        const res = await dex(secret, "GET", route);
        ms.push(performance.now() - started);
        expect(res.status, label).toBe(200);
      }
      console.log(`${label}: p50 ${percentile(ms, 50).toFixed(1)} ms, p95 ${percentile(ms, 95).toFixed(1)} ms (12 calls)`);
    };
    await timed("GET /v1/identity/email, API key", key, "/v1/identity/email");
    await timed("GET /v1/identity/email, OAuth token", token, "/v1/identity/email");
    await timed("GET /v1/email/inbox?limit=5 (Gmail list + 5 gets)", key, "/v1/email/inbox?limit=5");
    await timed("GET /v1/calendar/events (Calendar list)", key, "/v1/calendar/events");
  });
});
