// Identity provisioning end to end on convex-test and the provider simulator over real HTTP:
// the steps as workpool work with their retries, the Telnyx webhook bringing Signal's code, the
// captcha path, suspension and deprovisioning in order, and what the customer and support see.
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { errorCodeOf, signIn } from "../test.setup";
import { DAY, grantPlan, identityClock, identityRows, liveRow, MESSAGING_PROFILE, START, stepStatuses, useIdentityStack } from "./simulator.setup";

const stack = useIdentityStack();
vi.setConfig({ testTimeout: 60_000 });

interface GoogleState {
  users: { primaryEmail: string; suspended: boolean; id: string }[];
}
interface TelnyxState {
  orders: { customer_reference: string | null; phone_numbers: { phone_number: string }[] }[];
  numbers: { phone_number: string; status: string; messaging_profile_id: string | null }[];
}
interface SignalState {
  accounts: { number: string; status: string; code: string }[];
}

const ALL_DONE = {
  workspace_user: "done",
  mailbox: "done",
  number_order: "done",
  messaging_profile: "done",
  signal_register: "done",
  signal_code: "done",
  signal_verify: "done",
};

async function provisioned(email = "ada@example.com") {
  const clock = identityClock(START);
  const t = stack.deployment();
  const { userId, as } = await signIn(t, email);
  await grantPlan(t, email);
  await clock.settle(t);
  return { clock, t, userId, as, email };
}

describe("provisioning", () => {
  test("a paid account gets mailbox, number and a verified Signal without a person", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "ada@example.com");
    expect(await as.query(api.identity.view.mine, {})).toBeNull();

    await grantPlan(t, "ada@example.com");
    expect(await as.query(api.identity.view.mine, {})).toMatchObject({
      phase: "provisioning",
      status: "provisioning",
      features: { email: true, phone: true, signal: true },
      emailAddress: null,
      phoneNumber: null,
      action: null,
      // Email and phone start side by side; Signal waits for the number.
      steps: [
        { name: "workspace_user", status: "running" },
        { name: "mailbox", status: "pending" },
        { name: "number_order", status: "running" },
        { name: "messaging_profile", status: "pending" },
        { status: "pending" },
        { status: "pending" },
        { status: "pending" },
      ],
    });

    await clock.settle(t);
    const mine = (await as.query(api.identity.view.mine, {}))!;
    expect(mine).toMatchObject({ phase: "active", status: "active", signalStatus: "verified", action: null });
    expect(mine.emailAddress).toMatch(/^dex-[a-z2-9]{8}@dex\.test$/);
    expect(mine.steps.map((s) => s.status)).toEqual(Object.values(ALL_DONE));

    const google = await stack.state<GoogleState>("google");
    expect(google.users).toEqual([expect.objectContaining({ primaryEmail: mine.emailAddress, suspended: false })]);
    const telnyx = await stack.state<TelnyxState>("telnyx");
    expect(telnyx.orders).toEqual([expect.objectContaining({ customer_reference: userId })]);
    expect(telnyx.numbers).toEqual([expect.objectContaining({ phone_number: mine.phoneNumber, status: "active", messaging_profile_id: MESSAGING_PROFILE })]);
    const signal = await stack.state<SignalState>("signal");
    expect(signal.accounts).toEqual([expect.objectContaining({ number: mine.phoneNumber, status: "registered" })]);

    // The code came on the signed Telnyx webhook and was consumed; it is nowhere in the data.
    const row = await liveRow(t, userId);
    expect(stepStatuses(row)).toEqual(ALL_DONE);
    expect(row.signalCodeSealed).toBeUndefined();
    expect(row.workspacePasswordEncrypted).toMatch(/^v1\./);
    const stored = await t.run(async (ctx) => ({
      events: await ctx.db.query("webhookEvents").collect(),
      sms: await ctx.db.query("incomingSms").collect(),
      audit: await ctx.db.query("auditLogs").collect(),
      identities: await ctx.db.query("identities").collect(),
    }));
    expect(stored.events.map((e) => [e.provider, e.outcome])).toEqual([["telnyx", "signal_code"]]);
    expect(stored.sms).toEqual([]);
    const code = signal.accounts[0].code;
    expect(JSON.stringify(stored)).not.toContain(code);

    // Dex reads it with the account's key.
    const { secret } = await t.mutation(internal.cli.createApiKey, { email: "ada@example.com" });
    const res = await t.fetch("/v1/identity", { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      object: "identity",
      status: "active",
      email: { address: mine.emailAddress, ready: true },
      phone: { number: mine.phoneNumber },
      signal: { status: "verified", number: mine.phoneNumber },
      features: { email: true, phone: true, signal: true },
    });
    const status = await t.fetch("/v1/identity/status", { headers: { authorization: `Bearer ${secret}` } });
    const body = (await status.json()) as { steps: { name: string; status: string }[] };
    expect(body.steps.map((s) => `${s.name}:${s.status}`)).toEqual(Object.entries(ALL_DONE).map(([n, s]) => `${n}:${s}`));
  });

  test("a trial account has no identity; Dex gets a 404 in OpenAI's error shape", async () => {
    identityClock(START);
    const t = stack.deployment();
    const { as } = await signIn(t, "trial@example.com");
    const { secret } = await t.mutation(internal.cli.createApiKey, { email: "trial@example.com" });
    expect(await as.query(api.identity.view.mine, {})).toBeNull();
    const res = await t.fetch("/v1/identity", { headers: { authorization: `Bearer ${secret}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: "identity_not_provisioned", type: "invalid_request_error" } });
    expect((await t.fetch("/v1/identity")).status).toBe(401);
  });
});

describe("configuration", () => {
  test("a deployment that names no identity provider creates no identity; one missing a provider says which variables", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const serviceAccount = process.env.GOOGLE_SERVICE_ACCOUNT_EMAIL!;
    for (const name of ["GOOGLE_SERVICE_ACCOUNT_EMAIL", "TELNYX_API_KEY", "SIGNAL_CLI_URL"]) vi.stubEnv(name, "");
    const { userId } = await signIn(t, "plain@example.com");
    const support = await signIn(t, "agent@example.com", "support");
    await grantPlan(t, "plain@example.com");
    expect(await identityRows(t, userId)).toEqual([]);
    expect(await errorCodeOf(support.as.mutation(api.identity.support.provision, { userId, reason: "try anyway" }))).toBe("NOT_CONFIGURED");

    vi.stubEnv("GOOGLE_SERVICE_ACCOUNT_EMAIL", serviceAccount);
    vi.stubEnv("TELNYX_API_KEY", "KEY_test");
    await support.as.mutation(api.identity.support.provision, { userId, reason: "providers configured" });
    await clock.settle(t);
    const row = await liveRow(t, userId);
    expect(row.steps.find((s) => s.name === "signal_register")).toMatchObject({ status: "failed", lastError: expect.stringContaining("SIGNAL_CLI_URL") });
  });
});

describe("retries are idempotent", () => {
  test("a Workspace user created by an attempt that crashed before recording is found, not created again", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "crash@example.com");
    // The first attempt fails at Google (its lookup): the workpool will retry in a few seconds.
    stack.sim.configure({ fail: { status: 503, count: 1, pathPrefix: "/admin/directory" } });
    await grantPlan(t, "crash@example.com");
    await clock.stepUntil(t, async () => (await liveRow(t, userId)).steps[0].lastError !== undefined);
    const row = await liveRow(t, userId);
    expect(row.steps[0]).toMatchObject({ name: "workspace_user", status: "running", attempts: 1, lastError: expect.stringContaining("HTTP 503") });
    // Meanwhile an attempt creates the user upstream and dies before its outcome is recorded.
    const lost = await t.action(internal.identity.steps.run, { identityId: row._id, step: "workspace_user" });
    expect(lost).toMatchObject({ kind: "done" });
    expect((await stack.state<GoogleState>("google")).users).toHaveLength(1);

    await clock.settle(t);
    const google = await stack.state<GoogleState>("google");
    expect(google.users).toHaveLength(1);
    const after = await liveRow(t, userId);
    expect(after.phase).toBe("active");
    expect(after.workspaceEmail).toBe(google.users[0].primaryEmail);
    expect(after.workspaceUserId).toBe(google.users[0].id);
    expect(after.steps[0].attempts).toBe(3);
  });

  test("a number ordered by an attempt that crashed before recording is found by customer_reference, never ordered twice", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "number@example.com");
    stack.sim.configure({ fail: { status: 503, count: 1, pathPrefix: "/v2/number_orders" } });
    await grantPlan(t, "number@example.com");
    await clock.stepUntil(t, async () => (await liveRow(t, userId)).steps.find((s) => s.name === "number_order")?.lastError !== undefined);
    const row = await liveRow(t, userId);
    // The phone branch does not wait for the email branch.
    expect(stepStatuses(row)).toMatchObject({ number_order: "running", messaging_profile: "pending" });
    const lost = await t.action(internal.identity.steps.run, { identityId: row._id, step: "number_order" });
    expect(lost).toMatchObject({ kind: "done" });

    await clock.settle(t);
    const telnyx = await stack.state<TelnyxState>("telnyx");
    expect(telnyx.orders).toHaveLength(1);
    expect(telnyx.numbers).toHaveLength(1);
    const after = await liveRow(t, userId);
    expect(after.phase).toBe("active");
    expect(after.phoneNumber).toBe(telnyx.numbers[0].phone_number);
  });

  test("retryable failures (5xx, 429, Google's rate limit) are retried with backoff until they pass", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "flaky@example.com");
    stack.sim.configure({ fail: { status: 403, count: 2, pathPrefix: "/gmail", code: "userRateLimitExceeded", message: "User Rate Limit Exceeded" } });
    await grantPlan(t, "flaky@example.com");
    await clock.settle(t);
    const row = await liveRow(t, userId);
    expect(row.phase).toBe("active");
    expect(row.steps.find((s) => s.name === "mailbox")).toMatchObject({ status: "done", attempts: 3, lastError: expect.stringContaining("Rate Limit") });
    expect(await t.run(async (ctx) => ctx.db.query("alerts").collect())).toEqual([]);
  });
});

describe("retry pacing", () => {
  test("a transient 503 is retried after a fraction of a second, not seconds", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "blip@example.com");
    stack.sim.configure({ fail: { status: 503, count: 1, pathPrefix: "/v2/number_orders" } });
    await grantPlan(t, "blip@example.com");
    await clock.stepUntil(t, async () => (await liveRow(t, userId)).steps.find((s) => s.name === "number_order")?.status === "done");
    const step = (await liveRow(t, userId)).steps.find((s) => s.name === "number_order")!;
    expect(step).toMatchObject({ status: "done", attempts: 2, lastError: expect.stringContaining("HTTP 503") });
    // The fake clock stands still while a request is on the wire: this is the backoff alone
    // (STEP_RETRY's first wait, about 300 ms with the workpool's jitter).
    expect(step.finishedAt! - step.startedAt!).toBeLessThan(1_000);
  });

  test("an order that loses its number to a concurrent one (85001) searches again at once, in the same attempt", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "race@example.com");
    stack.sim.configure({ fail: { status: 422, count: 2, pathPrefix: "/v2/number_orders", code: "85001", message: "Number not available" } });
    await grantPlan(t, "race@example.com");
    await clock.settle(t);
    const row = await liveRow(t, userId);
    expect(row.phase).toBe("active");
    const step = row.steps.find((s) => s.name === "number_order")!;
    expect(step).toMatchObject({ status: "done", attempts: 1 });
    expect(step.lastError).toBeUndefined();
    const telnyx = await stack.state<TelnyxState>("telnyx");
    expect(telnyx.orders).toHaveLength(1);
  });

  test("three lost races in a row go to the workpool's retry", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "unlucky@example.com");
    stack.sim.configure({ fail: { status: 422, count: 3, pathPrefix: "/v2/number_orders", code: "85001", message: "Number not available" } });
    await grantPlan(t, "unlucky@example.com");
    await clock.settle(t);
    const step = (await liveRow(t, userId)).steps.find((s) => s.name === "number_order")!;
    expect(step).toMatchObject({ status: "done", attempts: 2, lastError: expect.stringContaining("HTTP 422") });
    expect((await stack.state<TelnyxState>("telnyx")).orders).toHaveLength(1);
  });

  test("Google's mailbox not there yet defers the step at a slower pace, without spending the retries or alerting", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "newbox@example.com");
    stack.sim.configure({ fail: { status: 400, count: 3, pathPrefix: "/gmail", code: "failedPrecondition", message: "Mail service not enabled" } });
    await grantPlan(t, "newbox@example.com");
    await clock.stepUntil(t, async () => (await liveRow(t, userId)).steps.find((s) => s.name === "mailbox")?.lastError !== undefined);
    const waiting = (await liveRow(t, userId)).steps.find((s) => s.name === "mailbox")!;
    expect(waiting).toMatchObject({ status: "running", attempts: 1, lastError: expect.stringContaining("Mail service not enabled") });
    const firstWorkId = waiting.workId;

    await clock.settle(t);
    const row = await liveRow(t, userId);
    expect(row.phase).toBe("active");
    const mailbox = row.steps.find((s) => s.name === "mailbox")!;
    expect(mailbox).toMatchObject({ status: "done", attempts: 4 });
    // Deferred three times, 2 s doubling (x0.75-1.25): at least 10.5 s, where the transient
    // retry's pace would have taken about 2 s.
    expect(mailbox.finishedAt! - mailbox.startedAt!).toBeGreaterThanOrEqual(10_500);
    expect(firstWorkId).toBeDefined();
    expect(await t.run(async (ctx) => ctx.db.query("alerts").collect())).toEqual([]);
  });

  test("a mailbox still not there after 30 minutes fails the step with an alert", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "nobox@example.com");
    stack.sim.configure({ fail: { status: 400, count: null, pathPrefix: "/gmail", code: "failedPrecondition", message: "Mail service not enabled" } });
    await grantPlan(t, "nobox@example.com");
    await clock.settle(t);
    const row = await liveRow(t, userId);
    const mailbox = row.steps.find((s) => s.name === "mailbox")!;
    expect(mailbox).toMatchObject({ status: "failed", lastError: expect.stringContaining("Still not ready after 30 minutes") });
    expect(mailbox.finishedAt! - mailbox.startedAt!).toBeGreaterThanOrEqual(30 * 60 * 1000);
    // The other branch went on meanwhile: the number and Signal are there.
    expect(row.steps.find((s) => s.name === "signal_verify")?.status).toBe("done");
    const alerts = await t.run(async (ctx) => ctx.db.query("alerts").collect());
    expect(alerts.map((a) => a.kind)).toEqual(["identity_step_failed"]);
    stack.sim.configure({ fail: null });
  });

  test("a new Workspace user costs one Directory lookup: the address seen free is inserted without asking again", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    await signIn(t, "lean@example.com");
    await grantPlan(t, "lean@example.com");
    await clock.settle(t);
    // A 401 is a token cached from an earlier test's simulator, refreshed once: not a lookup.
    const directory = stack.sim.requests({ pathPrefix: "/admin/directory/v1/users" }).filter((r) => r.status !== 401);
    expect(directory.map((r) => r.method)).toEqual(["GET", "POST"]);
  });
});

describe("failures stop and alert; support re-runs", () => {
  test("an invalid domain fails the step at once with an alert; support re-runs it with a reason", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "bad@example.com");
    const support = await signIn(t, "agent@example.com", "support");
    stack.sim.configure({ fail: { status: 400, count: 1, pathPrefix: "/admin/directory/v1/users", message: "Domain not found." } });
    await grantPlan(t, "bad@example.com");
    await clock.settle(t);

    const row = await liveRow(t, userId);
    expect(row.steps[0]).toMatchObject({ name: "workspace_user", status: "failed", attempts: 1, lastError: expect.stringContaining("invalid_domain") });
    const mine = (await as.query(api.identity.view.mine, {}))!;
    // Not the customer's to retry: support was alerted.
    expect(mine).toMatchObject({ status: "failed", action: null });
    const alerts = await t.run(async (ctx) => ctx.db.query("alerts").withIndex("by_kind_and_at", (q) => q.eq("kind", "identity_step_failed")).collect());
    expect(alerts).toHaveLength(1);
    expect(alerts[0].message).toMatch(/Creating email account failed for bad@example.com/);
    expect(alerts[0].userId).toBeUndefined();
    await expect(as.mutation(api.identity.view.retry, {})).rejects.toThrow(/support has been alerted/);

    const panel = await support.as.query(api.identity.support.get, { userId });
    expect(panel).toHaveLength(1);
    expect(panel[0]).toMatchObject({ status: "failed", statusStep: "workspace_user" });
    expect(panel[0].steps[0]).toMatchObject({ name: "workspace_user", status: "failed", attempts: 1, lastError: expect.stringContaining("Domain not found") });

    expect(await errorCodeOf(support.as.mutation(api.identity.support.rerunStep, { userId, step: "workspace_user", reason: " " }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(support.as.mutation(api.identity.support.rerunStep, { userId, step: "mailbox", reason: "domain fixed" }))).toBe("ILLEGAL_TRANSITION");
    expect(await errorCodeOf(as.mutation(api.identity.support.rerunStep, { userId, step: "workspace_user", reason: "me" }))).toBe("FORBIDDEN");
    await support.as.mutation(api.identity.support.rerunStep, { userId, step: "workspace_user", reason: "domain verified in the admin console" });
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("active");
    const audit = await t.run(async (ctx) =>
      ctx.db.query("auditLogs").withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId)).collect(),
    );
    expect(audit.find((a) => a.action === "identity.step_rerun")).toMatchObject({ actorLabel: "agent@example.com", reason: "domain verified in the admin console" });
  });

  test("support provisions by hand and forces deprovisioning, with reasons; the CLI does the same", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "hand@example.com", "user", "basic");
    const support = await signIn(t, "agent@example.com", "support");
    // An account put on Basic without the hook (an import): no identity until support starts one.
    expect(await identityRows(t, userId)).toEqual([]);
    await support.as.mutation(api.identity.support.provision, { userId, reason: "imported account" });
    expect(await errorCodeOf(support.as.mutation(api.identity.support.provision, { userId, reason: "again" }))).toBe("CONFLICT");
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("active");

    await t.mutation(internal.cli.deprovisionIdentity, { email: "hand@example.com", reason: "abuse report #12" });
    await clock.settle(t, Date.now() + 60_000);
    const row = await liveRow(t, userId);
    expect(row.phase).toBe("deprovisioning");
    expect(stepStatuses(row)).toMatchObject({ signal_unregister: "done", number_release: "done", workspace_suspend: "done", workspace_delete: "pending" });
    const shown = await t.query(internal.cli.showIdentity, { email: "hand@example.com" });
    expect(shown[0]).toMatchObject({ phase: "deprovisioning", status: "awaiting_deletion" });
    const audit = await t.run(async (ctx) =>
      ctx.db.query("auditLogs").withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId)).collect(),
    );
    expect(audit.map((a) => [a.action, a.actorLabel, a.reason])).toEqual(
      expect.arrayContaining([
        ["identity.provisioned_by_hand", "agent@example.com", "imported account"],
        ["identity.deprovision_forced", "cli", "abuse report #12"],
      ]),
    );
  });
});

describe("Signal", () => {
  test("a demanded captcha waits for the person; their signalcaptcha:// answer resumes registration", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "captcha@example.com");
    expect(await errorCodeOf(as.mutation(api.identity.view.submitCaptcha, { token: "signalcaptcha://signal-hcaptcha.abc.registration.xyz" }))).toBe("NO_CAPTCHA_PENDING");
    stack.sim.configure({ signal: { requireCaptcha: true } });
    await grantPlan(t, "captcha@example.com");
    await clock.settle(t);

    const waiting = (await as.query(api.identity.view.mine, {}))!;
    expect(waiting).toMatchObject({
      status: "captcha_needed",
      signalStatus: "captcha_needed",
      action: { kind: "captcha", captchaUrl: expect.stringMatching(/^https:\/\/signalcaptchas\.org\//) },
    });
    expect(waiting.steps.find((s) => s.name === "signal_register")).toMatchObject({ status: "waiting", waitingFor: "captcha" });
    expect(await errorCodeOf(as.mutation(api.identity.view.submitCaptcha, { token: "https://example.com/not-a-token" }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(as.mutation(api.identity.view.submitCaptcha, { token: `signalcaptcha://${"x".repeat(5000)}` }))).toBe("INVALID_ARGUMENT");

    const token = "signalcaptcha://signal-hcaptcha.5fad97ac-7d06.registration.P1_secretpart";
    await as.mutation(api.identity.view.submitCaptcha, { token });
    await clock.settle(t);
    expect(await as.query(api.identity.view.mine, {})).toMatchObject({ status: "active", signalStatus: "verified" });
    // signal-cli got the token (without its scheme); the app kept no trace of it.
    const registers = stack.sim.requests({ pathPrefix: "/v1/register/" }).filter((r) => !r.path.includes("/verify/"));
    expect(registers.map((r) => (r.body as { captcha?: string } | null)?.captcha ?? null)).toEqual([null, "signal-hcaptcha.5fad97ac-7d06.registration.P1_secretpart"]);
    const everything = await t.run(async (ctx) => JSON.stringify([await ctx.db.query("identities").collect(), await ctx.db.query("auditLogs").collect()]));
    expect(everything).not.toContain("P1_secretpart");
    expect((await liveRow(t, userId)).phase).toBe("active");
  });

  test("Signal's lockout waits until its time with no automatic retry; the person retries after it", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "locked@example.com");
    stack.sim.configure({ fail: { status: 400, count: 1, pathPrefix: "/v1/register", message: "[429] Rate limit exceeded: RegistrationRetryException, retry after 3600 seconds" } });
    await grantPlan(t, "locked@example.com");
    await clock.settle(t);
    const mine = (await as.query(api.identity.view.mine, {}))!;
    expect(mine).toMatchObject({ status: "retry_later", action: { kind: "retry_after", notBefore: expect.any(Number) } });
    const notBefore = (mine.action as { notBefore: number }).notBefore;
    expect(notBefore).toBeGreaterThanOrEqual(START + 3_600_000);
    expect(stack.sim.requests({ pathPrefix: "/v1/register" })).toHaveLength(1);
    expect(await errorCodeOf(as.mutation(api.identity.view.retry, {}))).toBe("RETRY_TOO_EARLY");

    await clock.settle(t, notBefore + 1_000);
    expect(stack.sim.requests({ pathPrefix: "/v1/register" })).toHaveLength(1);
    await as.mutation(api.identity.view.retry, {});
    await clock.settle(t);
    expect((await liveRow(t, userId)).signalStatus).toBe("verified");
  });

  test("a code that arrives after the registration was recorded resumes the verification", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId } = await signIn(t, "late-sms@example.com");
    // Signal's text is held back (Telnyx cannot reach the app for now).
    stack.sim.configure({ telnyx: { webhookUrl: null } });
    await grantPlan(t, "late-sms@example.com");
    await clock.settle(t, START + 60_000);
    const row = await liveRow(t, userId);
    expect(stepStatuses(row)).toMatchObject({ signal_register: "done", signal_code: "waiting:sms_code", signal_verify: "pending" });
    // Now it arrives, through the signed webhook, a few minutes later.
    stack.sim.configure({ telnyx: { webhookUrl: `${stack.receiverUrl}/webhooks/telnyx` } });
    const code = (await stack.state<SignalState>("signal")).accounts.find((a) => a.number === row.phoneNumber)!.code;
    await stack.control("/_sim/telnyx/inbound", { from: "+12025550142", to: row.phoneNumber, text: `Your Signal code: ${code.slice(0, 3)}-${code.slice(3)}` });
    await clock.settle(t);
    const after = await liveRow(t, userId);
    expect(after.phase).toBe("active");
    expect(after.signalStatus).toBe("verified");
    expect(await t.run(async (ctx) => ctx.db.query("incomingSms").collect())).toEqual([]);
  });

  test("a code that never arrives fails after 10 minutes; the person's retry registers again", async () => {
    const clock = identityClock(START);
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "silent@example.com");
    // Telnyx cannot reach the app: Signal's SMS is lost.
    stack.sim.configure({ telnyx: { webhookUrl: null } });
    await grantPlan(t, "silent@example.com");
    await clock.settle(t, START + 60_000);
    expect(stepStatuses(await liveRow(t, userId))).toMatchObject({ signal_register: "done", signal_code: "waiting:sms_code" });
    expect((await as.query(api.identity.view.mine, {}))!.signalStatus).toBe("awaiting_code");

    await clock.settle(t, START + 11 * 60_000);
    const failed = (await as.query(api.identity.view.mine, {}))!;
    expect(failed).toMatchObject({ status: "failed", signalStatus: "failed", action: { kind: "retry", step: "signal_code" } });
    stack.sim.configure({ telnyx: { webhookUrl: `${stack.receiverUrl}/webhooks/telnyx` } });
    await as.mutation(api.identity.view.retry, {});
    await clock.settle(t);
    expect((await liveRow(t, userId)).signalStatus).toBe("verified");
    expect(stack.sim.requests({ pathPrefix: "/v1/register" }).filter((r) => !r.path.includes("verify"))).toHaveLength(2);
  });
});

describe("suspension and deprovisioning", () => {
  test("suspension suspends the Workspace user and keeps number and Signal; lifting it restores the user", async () => {
    const { clock, t, userId, as } = await provisioned("paused@example.com");
    const support = await signIn(t, "agent@example.com", "support");
    await support.as.mutation(api.admin.accounts.suspend, { userId, reason: "chargeback review" });
    await clock.settle(t);
    let row = await liveRow(t, userId);
    expect(row.phase).toBe("suspended");
    expect((await stack.state<GoogleState>("google")).users[0].suspended).toBe(true);
    expect((await stack.state<TelnyxState>("telnyx")).numbers[0].status).toBe("active");
    expect((await stack.state<SignalState>("signal")).accounts[0].status).toBe("registered");
    expect(await as.query(api.identity.view.mine, {})).toMatchObject({ phase: "suspended", status: "suspended", signalStatus: "verified" });

    await support.as.mutation(api.admin.accounts.unsuspend, { userId, reason: "review closed" });
    await clock.settle(t);
    row = await liveRow(t, userId);
    expect(row.phase).toBe("active");
    expect(stepStatuses(row)).toMatchObject({ workspace_suspend: "done", workspace_restore: "done" });
    expect((await stack.state<GoogleState>("google")).users[0].suspended).toBe(false);
  });

  test("non-payment: grace expiry suspends the identity, the recovered payment restores it", async () => {
    const { clock, t, userId } = await provisioned("late@example.com");
    const billing = async (type: "payment_failed" | "grace_expired" | "payment_recovered") =>
      await t.run(async (ctx) => {
        const { applyStateEvent } = await import("../lib/accounts");
        await applyStateEvent(ctx, (await ctx.db.get("users", userId))!, { type }, { label: "billing" }, type);
      });
    await billing("payment_failed");
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("active");
    await billing("grace_expired");
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("suspended");
    expect((await stack.state<GoogleState>("google")).users[0].suspended).toBe(true);
    await billing("payment_recovered");
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("active");
    expect((await stack.state<GoogleState>("google")).users[0].suspended).toBe(false);
    expect((await stack.state<TelnyxState>("telnyx")).orders).toHaveLength(1);
  });

  test("cancellation takes it apart in order: Signal, number, Workspace suspended, deleted after retention; resubscribing starts afresh", async () => {
    const { clock, t, userId, as, email } = await provisioned("leaving@example.com");
    const before = await liveRow(t, userId);
    const canceledAt = Date.now();
    await t.run(async (ctx) => {
      const { applyStateEvent } = await import("../lib/accounts");
      await applyStateEvent(ctx, (await ctx.db.get("users", userId))!, { type: "cancel" }, { label: "stripe" }, "subscription ended");
    });
    await clock.settle(t, canceledAt + DAY);
    let row = await liveRow(t, userId);
    expect(row.phase).toBe("deprovisioning");
    expect(await as.query(api.identity.view.mine, {})).toMatchObject({ phase: "deprovisioning", status: "awaiting_deletion" });
    // Signal before the number (Signal must be unregistered while the number still exists).
    const order = stack.sim
      .requests()
      .filter((r) => r.path.startsWith("/v1/unregister") || (r.method === "DELETE" && r.path.startsWith("/v2/phone_numbers")) || (r.method === "PUT" && r.path.startsWith("/admin/directory")));
    expect(order.map((r) => `${r.method} ${r.path.split("/").slice(0, 3).join("/")}`)).toEqual(["POST /v1/unregister", "DELETE /v2/phone_numbers", "PUT /admin/directory"]);
    expect((await stack.state<GoogleState>("google")).users).toEqual([expect.objectContaining({ suspended: true })]);
    expect((await stack.state<SignalState>("signal")).accounts).toEqual([]);
    expect((await stack.state<TelnyxState>("telnyx")).numbers[0].status).toBe("deleted");

    await clock.settle(t, canceledAt + 29 * DAY);
    expect((await stack.state<GoogleState>("google")).users).toHaveLength(1);
    await clock.settle(t, canceledAt + 31 * DAY);
    expect((await stack.state<GoogleState>("google")).users).toEqual([]);
    row = await liveRow(t, userId);
    expect(row.phase).toBe("deprovisioned");
    expect(row.deprovisionedAt).toBeGreaterThanOrEqual(canceledAt + 30 * DAY);
    expect(row.steps.filter((s) => ["signal_unregister", "number_release", "workspace_suspend", "workspace_delete"].includes(s.name)).map((s) => s.status)).toEqual([
      "done",
      "done",
      "done",
      "done",
    ]);

    // Back on a paid plan: a fresh identity with a new address and number; the old row stays as it was.
    await t.run(async (ctx) => {
      const { applyStateEvent } = await import("../lib/accounts");
      await applyStateEvent(ctx, (await ctx.db.get("users", userId))!, { type: "checkout_completed" }, { label: "stripe" }, "resubscribed");
    });
    await clock.settle(t);
    const rows = await identityRows(t, userId);
    expect(rows.map((r) => r.phase)).toEqual(["active", "deprovisioned"]);
    expect(rows[0].workspaceEmail).not.toBe(before.workspaceEmail);
    // A new order (the released number may come round again from the pool).
    expect(rows[0].telnyxOrderId).not.toBe(before.telnyxOrderId);
    expect((await stack.state<TelnyxState>("telnyx")).orders.filter((o) => o.customer_reference === userId)).toHaveLength(2);
    expect(email).toBe("leaving@example.com");
  });
});

describe("the sweep", () => {
  test("a deletion whose scheduled wake-up was lost still happens once the sweep runs", async () => {
    const { clock, t, userId } = await provisioned("lost@example.com");
    const support = await signIn(t, "agent@example.com", "support");
    await support.as.mutation(api.identity.support.forceDeprovision, { userId, reason: "closing the account" });
    const canceledAt = Date.now();
    await clock.settle(t, canceledAt + DAY);
    // The wake-up is lost (a restore from backup, say).
    const canceled = await t.run(async (ctx) => {
      const pending = (await ctx.db.system.query("_scheduled_functions").collect()).filter((f) => f.name.includes("identity/steps") && f.state.kind === "pending");
      for (const f of pending) await ctx.scheduler.cancel(f._id);
      return pending.length;
    });
    expect(canceled).toBe(1);
    await clock.settle(t, canceledAt + 31 * DAY);
    expect((await liveRow(t, userId)).phase).toBe("deprovisioning");
    expect((await stack.state<GoogleState>("google")).users).toHaveLength(1);
    await t.mutation(internal.identity.maintenance.sweep, {});
    await clock.settle(t);
    expect((await liveRow(t, userId)).phase).toBe("deprovisioned");
    expect((await stack.state<GoogleState>("google")).users).toEqual([]);
  });
});

describe("the Telnyx webhook", () => {
  async function signer() {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const publicKey = btoa(String.fromCharCode(...raw));
    const sign = async (body: string, timestamp: number) => {
      const sig = new Uint8Array(await crypto.subtle.sign({ name: "Ed25519" }, pair.privateKey, new TextEncoder().encode(`${timestamp}|${body}`)));
      return { "telnyx-signature-ed25519": btoa(String.fromCharCode(...sig)), "telnyx-timestamp": String(timestamp), "content-type": "application/json" };
    };
    return { publicKey, sign };
  }

  const sms = (id: string, to: string, text: string) =>
    JSON.stringify({ data: { event_type: "message.received", id, occurred_at: new Date().toISOString(), payload: { from: { phone_number: "+12025550111" }, to: [{ phone_number: to }], text } }, meta: { attempt: 1 } });

  test("stores an SMS once (redeliveries change nothing); tampered, stale and unsigned ones are refused before parsing", async () => {
    identityClock(START);
    const t = stack.deployment();
    const { publicKey, sign } = await signer();
    const { vi } = await import("vitest");
    vi.stubEnv("TELNYX_PUBLIC_KEY", publicKey);
    const now = Math.floor(Date.now() / 1000);
    const body = sms("evt-1", "+12015550100", "hello from the dentist");
    const post = async (payload: string, headers: Record<string, string>) => {
      const res = await t.fetch("/webhooks/telnyx", { method: "POST", headers, body: payload });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    };

    expect(await post(body, await sign(body, now))).toMatchObject({ status: 200, body: { received: true, outcome: "stored: no identity has this number" } });
    expect(await post(body, await sign(body, now + 30))).toMatchObject({ status: 200, body: { replayed: true } });
    const tampered = body.replace("dentist", "bank");
    expect(await post(tampered, await sign(body, now))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/does not match/) } });
    expect(await post(body, await sign(body, now - 301))).toMatchObject({ status: 400, body: { error: expect.stringMatching(/5 minutes/) } });
    expect(await post(body, { "content-type": "application/json" })).toMatchObject({ status: 400, body: { error: expect.stringMatching(/Missing/) } });
    const notJson = "not json";
    expect(await post(notJson, await sign(notJson, now))).toMatchObject({ status: 400 });

    const stored = await t.run(async (ctx) => ctx.db.query("incomingSms").collect());
    expect(stored).toEqual([expect.objectContaining({ to: "+12015550100", text: "hello from the dentist", providerMessageId: "evt-1" })]);
    vi.stubEnv("TELNYX_PUBLIC_KEY", "");
    expect((await post(body, await sign(body, now))).status).toBe(500);
  });

  test("an SMS to a provisioned number is kept for the account; one with digits is not taken for a code when no registration runs", async () => {
    const { clock, t, userId } = await provisioned("texts@example.com");
    const row = await liveRow(t, userId);
    await stack.control("/_sim/telnyx/inbound", { from: "+12025550111", to: row.phoneNumber, text: "Your table for 2 is at 19:30, code 123456" });
    await clock.settle(t);
    const stored = await t.run(async (ctx) => ctx.db.query("incomingSms").withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId)).collect());
    expect(stored).toEqual([expect.objectContaining({ identityId: row._id, text: expect.stringContaining("123456") })]);
    expect((await liveRow(t, userId)).signalCodeSealed).toBeUndefined();

    // 30 days later the retention job removes it.
    await clock.settle(t, Date.now() + 31 * DAY);
    expect(await t.mutation(internal.identity.sms.purgeOld, {})).toBe(1);
    expect(await t.run(async (ctx) => ctx.db.query("incomingSms").collect())).toEqual([]);
  });
});

describe("keep-alive", () => {
  test("receives for each verified number and stores the messages once for the Dex API", async () => {
    const { clock, t, userId } = await provisioned("alive@example.com");
    const row = await liveRow(t, userId);
    await stack.control("/_sim/signal/inbound", { from: "+12025550123", to: row.phoneNumber, message: "are you there, Dex?" });
    expect(await t.mutation(internal.identity.maintenance.keepAlive, {})).toBe(1);
    await clock.settle(t);
    const messages = await t.run(async (ctx) => ctx.db.query("signalMessages").collect());
    expect(messages).toEqual([expect.objectContaining({ userId, source: "+12025550123", message: "are you there, Dex?", number: row.phoneNumber })]);
    expect(stack.sim.requests({ pathPrefix: "/v1/receive" })).toHaveLength(1);
  });
});
