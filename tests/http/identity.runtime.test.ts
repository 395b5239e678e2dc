// Identity provisioning over real HTTP: the offline runtime (real scheduler, workpool and
// timers) with the development env, and the provider simulator as Stripe, Google Workspace,
// Telnyx and signal-cli. A Dex instance subscribes with its key, the simulated checkout is paid,
// and the identity comes up on its own: mailbox ready, number with its messaging profile, Signal
// verified by the code the simulator texts to the number through Telnyx's signed webhook.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEV_IDENTITY, devEnv, devSimulatorBilling } from "../../dev/env";
import type { Runtime } from "../../dev/runtime/server";
import type { RunningSimulator } from "../../dev/simulator/server";
import { startRuntimeStack, type RuntimeStack } from "./runtimeStack";

let sim: RunningSimulator;
let rt: Runtime;
let stack: RuntimeStack;

beforeAll(async () => {
  stack = await startRuntimeStack({ name: "identity-runtime", env: ({ dir, simUrl }) => devEnv(dir, simUrl, "http://127.0.0.1:5173") });
  ({ sim, rt } = stack);
  sim.configure(devSimulatorBilling(rt.urls.site));
}, 120_000);

afterAll(async () => {
  await stack?.close();
});

async function accountWithKey(email: string): Promise<string> {
  return (await stack.account(email)).secret;
}

async function dex<T>(secret: string, method: string, route: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(`${rt.urls.site}${route}`, {
    method,
    headers: { authorization: `Bearer ${secret}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** Subscribes through the Dex API and pays the simulated hosted checkout. */
async function subscribeAndPay(secret: string): Promise<void> {
  const checkout = await dex<{ url: string }>(secret, "POST", "/v1/billing/subscribe", { plan: "basic" });
  expect(checkout.status).toBe(200);
  const session = /\/_sim\/stripe\/checkout\/(cs_[\w]+)/.exec(checkout.json.url)?.[1];
  expect(session).toBeDefined();
  const paid = await fetch(`${sim.url}/_sim/stripe/checkout/${session}/complete`, { method: "POST" });
  expect(paid.status).toBe(200);
}

interface Identity {
  status: string;
  email: { address: string | null; ready: boolean } | null;
  phone: { number: string | null } | null;
  signal: { status: string } | null;
}

async function untilActive(secret: string, timeoutMs: number): Promise<Identity> {
  const until = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    const res = await dex<Identity>(secret, "GET", "/v1/identity");
    last = res.json;
    if (res.status === 200 && res.json.status === "active") return res.json;
    if (res.status === 200 && ["failed", "captcha_needed", "retry_later"].includes(res.json.status)) throw new Error(`identity stopped: ${JSON.stringify(res.json)}`);
    if (Date.now() > until) throw new Error(`identity not active in time: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("identity over real HTTP", () => {
  it("a checkout brings the identity up without a person: mailbox ready, number assigned, Signal verified", async () => {
    const secret = await accountWithKey("http-identity@example.com");
    expect((await dex(secret, "GET", "/v1/identity")).status).toBe(404);
    const started = Date.now();
    await subscribeAndPay(secret);
    const identity = await untilActive(secret, 60_000);
    const elapsedMs = Date.now() - started;
    expect(identity.email).toEqual({ address: expect.stringMatching(new RegExp(`^dex-[a-z2-9]{8}@${DEV_IDENTITY.workspaceDomain.replace(/\./g, "\\.")}$`)), ready: true });
    expect(identity.phone?.number).toMatch(/^\+1\d{3}55501\d{2}$/);
    expect(identity.signal).toMatchObject({ status: "verified" });

    const status = await dex<{ steps: { name: string; status: string }[] }>(secret, "GET", "/v1/identity/status");
    expect(status.json.steps.every((s) => s.status === "done")).toBe(true);
    expect(status.json.steps).toHaveLength(7);

    const telnyx = (await (await fetch(`${sim.url}/_sim/telnyx`)).json()) as { numbers: { phone_number: string; messaging_profile_id: string | null }[] };
    expect(telnyx.numbers.find((n) => n.phone_number === identity.phone?.number)?.messaging_profile_id).toBe(DEV_IDENTITY.messagingProfileId);
    const deliveries = (await (await fetch(`${sim.url}/_sim/webhooks?provider=telnyx`)).json()) as { deliveries: { status: number | null }[] };
    expect(deliveries.deliveries.map((d) => d.status)).toEqual([200]);
    console.log(`checkout paid -> identity active in ${elapsedMs} ms`);
  }, 90_000);

  it("with 100-300 ms provider latency and 5% failures, five accounts still come up on their own", async () => {
    sim.configure({
      providerFaults: {
        google: { latencyMinMs: 100, latencyMaxMs: 300, failProbability: 0.05, failStatus: 503 },
        telnyx: { latencyMinMs: 100, latencyMaxMs: 300, failProbability: 0.05, failStatus: 503 },
      },
    });
    try {
      const secrets = await Promise.all(Array.from({ length: 5 }, (_, i) => accountWithKey(`faulty-${i}@example.com`)));
      const started = Date.now();
      await Promise.all(secrets.map((s) => subscribeAndPay(s)));
      const times = await Promise.all(
        secrets.map(async (s) => {
          await untilActive(s, 120_000);
          return Date.now() - started;
        }),
      );
      times.sort((a, b) => a - b);
      console.log(`5 accounts, faults on: active after ${times.map((ms) => `${(ms / 1000).toFixed(1)} s`).join(", ")}`);
      expect(times).toHaveLength(5);
    } finally {
      sim.configure({ providerFaults: { google: null, telnyx: null } });
    }
  }, 180_000);
});
