// The device flow (RFC 8628) through every state: pending, slow_down, approved -> tokens,
// declined, expired, and a code exchanged twice.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../_generated/api";
import { DEVICE_CODE_GRANT } from "../model/oauth/metadata";
import { errorCodeOf, newTest, signIn, type TestConvex } from "../test.setup";
import { APP, INSTANCE, post, useOAuthEnv } from "./oauth.setup";

const START = Date.UTC(2026, 10, 1, 12);

// The first test of a file loads every module the HTTP router imports: on a busy machine that
// alone can pass vitest's default 5 s.
vi.setConfig({ testTimeout: 30_000 });

beforeEach(() => {
  useOAuthEnv();
  vi.useFakeTimers({ now: START, toFake: ["Date"] });
});
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

async function begin(t: TestConvex, scope?: string) {
  const res = await post(t, "/oauth/device_authorization", { client_id: INSTANCE, scope });
  expect(res.status).toBe(200);
  return res.body as { device_code: string; user_code: string; verification_uri: string; verification_uri_complete: string; expires_in: number; interval: number };
}

async function poll(t: TestConvex, deviceCode: string) {
  return await post(t, "/oauth/token", { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: INSTANCE });
}

function later(ms: number) {
  vi.setSystemTime(Date.now() + ms);
}

describe("device authorization", () => {
  it("hands out a device code, a user code and the /device page", async () => {
    const t = newTest();
    const d = await begin(t);
    expect(d.device_code).toMatch(/^pdx_dc_/);
    expect(d.user_code).toMatch(/^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
    expect(d.verification_uri).toBe(`${APP}/device`);
    expect(d.verification_uri_complete).toBe(`${APP}/device?user_code=${d.user_code}`);
    expect(d).toMatchObject({ expires_in: 600, interval: 5 });
    const stored = await t.run(async (ctx) => ctx.db.query("oauthDeviceCodes").collect());
    expect(JSON.stringify(stored)).not.toContain(d.device_code);
    expect(JSON.stringify(stored)).not.toContain(d.user_code);
  });

  it("refuses a bad client_id or an unknown scope", async () => {
    const t = newTest();
    expect(await post(t, "/oauth/device_authorization", { client_id: "nope" })).toMatchObject({ status: 401, body: { error: "invalid_client" } });
    expect(await post(t, "/oauth/device_authorization", { client_id: INSTANCE, scope: "ai root" })).toMatchObject({ status: 400, body: { error: "invalid_scope" } });
  });

  it("pending -> slow_down -> approved -> tokens, then the code is spent", async () => {
    const t = newTest();
    const { as, userId } = await signIn(t, "owner@example.com", "user", "basic");
    const d = await begin(t, "ai usage");

    expect(await poll(t, d.device_code)).toMatchObject({ status: 400, body: { error: "authorization_pending" } });
    later(1000);
    expect(await poll(t, d.device_code)).toMatchObject({ status: 400, body: { error: "slow_down" } });
    // slow_down raised the interval to 10 s: 6 s later is still too soon.
    later(6000);
    expect(await poll(t, d.device_code)).toMatchObject({ body: { error: "slow_down" } });
    later(15_000);
    expect(await poll(t, d.device_code)).toMatchObject({ body: { error: "authorization_pending" } });

    // The person types the code loosely on /device and approves.
    const typed = d.user_code.toLowerCase().replace("-", " ");
    expect(await as.query(api.oauth.device.lookup, { userCode: typed })).toMatchObject({
      status: "pending",
      instanceId: INSTANCE,
      scopes: [{ scope: "ai" }, { scope: "usage" }],
    });
    expect(await as.mutation(api.oauth.device.decide, { userCode: typed, approve: true })).toEqual({ instanceId: INSTANCE, approved: true });

    const done = await poll(t, d.device_code);
    expect(done).toMatchObject({ status: 200, body: { token_type: "Bearer", scope: "ai usage", expires_in: 3600 } });
    expect(await as.query(api.oauth.instances.mine, {})).toMatchObject([{ instanceId: INSTANCE, via: "device", scopes: ["ai", "usage"] }]);
    const grant = await t.run(async (ctx) => ctx.db.query("oauthGrants").first());
    expect(grant?.userId).toBe(userId);

    later(20_000);
    expect(await poll(t, d.device_code)).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });

  it("declined -> access_denied", async () => {
    const t = newTest();
    const { as } = await signIn(t, "owner@example.com", "user", "basic");
    const d = await begin(t);
    await as.mutation(api.oauth.device.decide, { userCode: d.user_code, approve: false });
    expect(await poll(t, d.device_code)).toMatchObject({ status: 400, body: { error: "access_denied" } });
    expect(await errorCodeOf(as.mutation(api.oauth.device.decide, { userCode: d.user_code, approve: true }))).toBe("CONFLICT");
  });

  it("expired -> expired_token, and it can no longer be approved", async () => {
    const t = newTest();
    const { as } = await signIn(t, "owner@example.com", "user", "basic");
    const d = await begin(t);
    later(600_000);
    expect(await poll(t, d.device_code)).toMatchObject({ status: 400, body: { error: "expired_token" } });
    expect(await errorCodeOf(as.mutation(api.oauth.device.decide, { userCode: d.user_code, approve: true }))).toBe("CONFLICT");
  });

  it("a trial account cannot approve; a wrong or another account's code is not found", async () => {
    const t = newTest();
    const trial = await signIn(t, "trial@example.com");
    const owner = await signIn(t, "owner@example.com", "user", "basic");
    const d = await begin(t);
    expect(await errorCodeOf(trial.as.mutation(api.oauth.device.decide, { userCode: d.user_code, approve: true }))).toBe("FORBIDDEN");
    expect(await owner.as.query(api.oauth.device.lookup, { userCode: "BCDF-GHJK" })).toEqual({ status: "not_found" });
    expect(await owner.as.query(api.oauth.device.lookup, { userCode: "hello" })).toEqual({ status: "malformed" });
    await owner.as.mutation(api.oauth.device.decide, { userCode: d.user_code, approve: true });
    expect(await trial.as.query(api.oauth.device.lookup, { userCode: d.user_code })).toEqual({ status: "not_found" });
  });

  it("an unknown device code is invalid_grant", async () => {
    const t = newTest();
    expect(await poll(t, "pdx_dc_" + "A".repeat(43))).toMatchObject({ status: 400, body: { error: "invalid_grant" } });
  });
});
