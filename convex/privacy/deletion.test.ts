// Account deletion end to end on convex-test, with the provider simulator as Stripe over real
// HTTP: a fully used account (signup, checkout, keys, usage, invoice, identity with SMS and Signal,
// OAuth grant and tokens, credentials, session tokens, emails, alerts, audit rows) is deleted, then
// EVERY table of the schema (read from convex/schema.ts, so tables added later are walked too) is
// searched for the person's email, name, phone numbers, user id and Clerk id, while the invoice
// and the usage rollups survive under the tombstone. Also: the three doors, idempotency of a
// step run twice, resumption after a crash mid-erase, and support's permissions.
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import { mailboxOf } from "./deletion.setup";
import { newSteps } from "../model/privacy/deletion";
import { errorCodeOf, signIn, type TestConvex, usageEvent } from "../test.setup";
import { control, useBillingStack } from "../billing/simulator.setup";
import schema from "../schema";

const stack = useBillingStack();
afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllEnvs();
});

const ISSUER = "https://clerk.poindexter.test";
const HOUR = 3_600_000;

interface Person {
  userId: Id<"users">;
  email: string;
  name: string;
  clerkUserId: string;
  phone: string;
  workspaceEmail: string;
  as: ReturnType<TestConvex["withIdentity"]>;
}

/** Signs up through the SPA's first sign-in (trial, first key, emails, signup attempt, audit rows). */
async function signUp(t: TestConvex, email: string, name: string, clerkUserId: string) {
  const as = t.withIdentity({ subject: clerkUserId, issuer: ISSUER, email, name });
  const result = await as.mutation(api.signup.account.ensure, {});
  if (result.status === "refused") throw new Error(`signup refused: ${result.message}`);
  return { userId: result.userId, as };
}

/** Everything a customer of a year leaves behind, seeded through the product where it can be. */
async function fullyUsedAccount(t: TestConvex, tag = "ada", opts: { checkout?: boolean } = {}): Promise<Person> {
  const email = `${tag}.lovelace@example.com`;
  const name = `${tag[0].toUpperCase()}${tag.slice(1)} Lovelace`;
  const clerkUserId = `user_2${tag}Clerk9xQ`;
  const phone = tag === "ada" ? "+15550104242" : "+15550107373";
  const workspaceEmail = `dex-${tag}01@dex.poindexter.test`;
  const { userId, as } = await signUp(t, email, name, clerkUserId);

  // A real checkout through the simulator: customer, subscription, paid invoice, webhook events.
  if (opts.checkout !== false) {
    const { url } = await as.action(api.billing.checkout.start, { plan: "pro" });
    await control(stack.sim, `/_sim/stripe/checkout/${url.split("/").pop()}/complete`);
    expect(await t.run(async (ctx) => (await ctx.db.get("users", userId))?.state)).toBe("active");
  }

  const now = Date.now();
  const keyId = (await t.run((ctx) => ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", userId)).first()))!._id;
  for (let i = 0; i < 5; i++) await usageEvent(t, userId, { apiKeyId: keyId, at: now - HOUR - i, instanceId: "dex-ada" });
  await t.mutation(internal.usage.rollup.foldEvents, {});

  await t.run(async (ctx) => {
    await ctx.db.patch("apiKeys", keyId, { lastUsedAt: now, lastUsedIp: "203.0.113.9" });
    // An identity whose deprovisioning already finished (an earlier plan), with its messages.
    const identityId = await ctx.db.insert("identities", {
      userId, phase: "deprovisioned", steps: [], signalStatus: "none", workspaceEmail, workspaceUserId: "ws_1",
      phoneNumber: phone, telnyxNumberId: "num_1", createdAt: now - 100 * HOUR, updatedAt: now - 10 * HOUR, deprovisionedAt: now - 10 * HOUR,
    });
    await ctx.db.insert("incomingSms", { to: phone, from: "+15559990000", text: `Hi ${name}`, providerMessageId: "sms_1", receivedAt: now - HOUR, userId, identityId });
    // An SMS the webhook could not match to the account still names its number.
    await ctx.db.insert("incomingSms", { to: phone, from: "+15559990001", text: "unmatched", providerMessageId: "sms_2", receivedAt: now - HOUR });
    await ctx.db.insert("signalMessages", { userId, identityId, number: phone, source: "+15559990002", message: "hello", sentAt: now - HOUR, receivedAt: now - HOUR });
    await ctx.db.insert("auditLogs", { actorLabel: "identity provisioning", action: "identity.provisioning_started", targetType: "identity", targetId: identityId, metadata: { userId, plan: "pro" }, at: now - 100 * HOUR });
    await ctx.db.insert("alerts", { kind: "identity_step_failed", severity: "critical", message: `Mailbox failed for ${email} (identity ${identityId}).`, at: now - 50 * HOUR });
    await ctx.db.insert("alerts", { userId, kind: "quota_80", severity: "warning", message: "80% of your tokens used", at: now - HOUR });

    // Dex connect: a grant with an access and a refresh token, a spent code, a device code.
    const grantId = await ctx.db.insert("oauthGrants", { userId, instanceId: "dex-ada", scopes: ["identity", "ai"], via: "authorization_code", createdAt: now - 20 * HOUR, lastIp: "203.0.113.9" });
    for (const kind of ["access", "refresh"] as const) {
      await ctx.db.insert("oauthTokens", { grantId, userId, kind, tokenHash: `${kind}-hash`, scopes: ["identity"], expiresAt: now + HOUR });
    }
    await ctx.db.insert("oauthCodes", { userId, clientId: "dex-ada", codeHash: "code-hash", redirectUri: "http://127.0.0.1/cb", codeChallenge: "c", scopes: ["identity"], expiresAt: now - 20 * HOUR, usedAt: now - 20 * HOUR, grantId });
    await ctx.db.insert("oauthDeviceCodes", { deviceCodeHash: "d", userCodeHash: "u", clientId: "dex-ada", scopes: ["ai"], status: "approved", expiresAt: now + HOUR, intervalSeconds: 5, userId, grantId });
    await ctx.db.insert("oauthRedirectUris", { userId, uri: "https://ada.example.com/callback", createdAt: now });
    await ctx.db.insert("oauthPendingConnects", { userId, requestHash: "req-hash", createdAt: now });

    // Short-lived credentials and a browser session token.
    await ctx.db.insert("providerCredentials", {
      userId, provider: "openai", lookupId: `lk${tag}`, tokenHash: "0".repeat(64), salt: "s", scopes: ["chat"], issuedAt: now, expiresAt: now + HOUR, status: "active",
    });
    await ctx.db.insert("sessionTokens", { userId, lookupId: `st${tag}`, tokenHash: "1".repeat(64), salt: "s", issuedAt: now, expiresAt: now + HOUR });

    // A refused attempt with the same mailbox before the account existed, and support's note.
    await ctx.db.insert("signupAttempts", { mailbox: mailboxOf(email), outcome: "refused", reason: "too_many_for_email", at: now - 200 * HOUR });
    // The ops console's rows: an incident, a key suspension and the anomaly folds, a refund.
    await ctx.db.insert("opsAlerts", {
      rule: "payment_failed", severity: "warning", subject: userId, userId, message: "An invoice payment failed.", firstSeenAt: now, lastSeenAt: now, count: 1, status: "open", at: now,
    });
    await ctx.db.insert("keySuspensions", { apiKeyId: keyId, userId, rule: "key_many_ips", reason: "Suspended.", suspendedAt: now });
    await ctx.db.insert("keyUsageHourly", { apiKeyId: keyId, userId, hour: now - (now % HOUR), tokens: 10, requests: 1 });
    await ctx.db.insert("keyIpSightings", { apiKeyId: keyId, ipHash: "ab12", lastSeenAt: now });
    const invoice = await ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId)).first();
    if (invoice !== null) {
      await ctx.db.insert("invoiceRefunds", {
        invoiceId: invoice._id, userId, provider: "stripe", providerInvoiceId: invoice.providerInvoiceId, amountMicros: 1_000_000, currency: "usd",
        idempotencyKey: `refund-${tag}`, reason: `goodwill for ${name}`, actorLabel: "support@poindexter.test", status: "succeeded", requestedAt: now,
      });
    }
    await ctx.db.insert("auditLogs", { actorLabel: "support@poindexter.test", action: "account.note", targetType: "user", targetId: userId, reason: `Called ${name} at ${phone}`, at: now - 2 * HOUR });
  });
  return { userId, email, name, clerkUserId, phone, workspaceEmail, as };
}

/** Waits (real time: the simulator and the scheduler run for real) until `done` holds. */
async function until<T>(what: string, read: () => Promise<T>, done: (v: T) => boolean, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function request(t: TestConvex, id: Id<"deletionRequests">): Promise<Doc<"deletionRequests">> {
  return (await t.run((ctx) => ctx.db.get("deletionRequests", id)))!;
}

async function finished(t: TestConvex, id: Id<"deletionRequests">) {
  return await until("the deletion to finish", () => request(t, id), (r) => r.status === "done");
}

/** Every table of convex/schema.ts, whole, as text per table. */
async function everyTable(t: TestConvex): Promise<Record<string, string>> {
  const tables = Object.keys(schema.tables) as TableNames[];
  return await t.run(async (ctx) => {
    const out: Record<string, string> = {};
    for (const table of tables) out[table] = JSON.stringify(await ctx.db.query(table).collect()).toLowerCase();
    return out;
  });
}

/** Where the person still appears: "<table> holds the <what>: …context…" per hit. */
async function traces(t: TestConvex, p: Person): Promise<string[]> {
  const text = await everyTable(t);
  expect(Object.keys(text).length).toBeGreaterThan(25);
  const needles = { email: p.email, mailbox: mailboxOf(p.email), name: p.name, phone: p.phone, workspaceEmail: p.workspaceEmail, userId: p.userId, clerkUserId: p.clerkUserId };
  const found: string[] = [];
  for (const [table, body] of Object.entries(text)) {
    for (const [what, needle] of Object.entries(needles)) {
      const at = body.indexOf(needle.toLowerCase());
      if (at >= 0) found.push(`${table} holds the ${what}: …${body.slice(Math.max(0, at - 120), at + 40)}…`);
    }
  }
  return found;
}

async function expectNoTrace(t: TestConvex, p: Person) {
  expect(await traces(t, p)).toEqual([]);
}

describe("account deletion", () => {
  test("from the Settings page: nothing of the person is left in any table; the invoice and rollups stay under the tombstone", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t);
    const other = await fullyUsedAccount(t, "bob");
    const before = await t.run(async (ctx) => ({
      invoices: await ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", ada.userId)).collect(),
      daily: await ctx.db.query("usageDaily").withIndex("by_userId_and_day_and_model", (q) => q.eq("userId", ada.userId)).collect(),
      monthly: await ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", ada.userId)).collect(),
    }));
    expect(before.invoices).toHaveLength(1);
    expect(before.daily.length).toBeGreaterThan(0);
    // The walk finds the person everywhere they are before the deletion (it can fail).
    const tablesBefore = new Set((await traces(t, ada)).map((hit) => hit.split(" ")[0]));
    for (const table of ["users", "apiKeys", "identities", "incomingSms", "auditLogs", "signupAttempts", "emailOutbox", "webhookEvents", "invoices", "usageDaily"]) {
      expect(tablesBefore).toContain(table);
    }

    expect(await errorCodeOf(ada.as.mutation(api.privacy.requests.deleteMine, { confirmEmail: "someone@else.com" }))).toBe("INVALID_ARGUMENT");
    const { requestId } = await ada.as.mutation(api.privacy.requests.deleteMine, { confirmEmail: ada.email.toUpperCase() });
    const done = await finished(t, requestId);

    expect(done.steps!.map((s) => [s.name, s.status])).toEqual([
      ["block_access", "done"], ["cancel_subscription", "done"], ["await_providers", "done"], ["erase", "done"], ["finalize", "done"],
    ]);
    expect(done.steps![1].note).toMatch(/^stripe sub_\w+ canceled$/);
    expect(done.userId).toBeUndefined();
    expect(done.clerkUserId).toBeUndefined();
    const tombstoneId = done.tombstoneId!;

    // The subscription ended at the provider (Stripe's own state, over its API).
    const sim = (await (await fetch(`${stack.sim.url}/_sim/stripe`)).json()) as { subscriptions: Array<{ status: string; metadata: { userId?: string } }> };
    expect(sim.subscriptions.find((s) => s.metadata.userId === ada.userId)?.status).toBe("canceled");

    await expectNoTrace(t, ada);

    const after = await t.run(async (ctx) => ({
      user: await ctx.db.get("users", ada.userId),
      tombstone: await ctx.db.get("users", tombstoneId),
      invoices: await ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", tombstoneId)).collect(),
      daily: await ctx.db.query("usageDaily").withIndex("by_userId_and_day_and_model", (q) => q.eq("userId", tombstoneId)).collect(),
      monthly: await ctx.db.query("usageMonthly").withIndex("by_userId_and_month", (q) => q.eq("userId", tombstoneId)).collect(),
      audit: await ctx.db.query("auditLogs").withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", tombstoneId)).collect(),
      bob: await ctx.db.query("apiKeys").withIndex("by_userId", (q) => q.eq("userId", other.userId)).collect(),
    }));
    expect(after.user).toBeNull();
    const refunds = await t.run((ctx) => ctx.db.query("invoiceRefunds").collect());
    expect(refunds.filter((r) => r.userId === tombstoneId).map((r) => [r.amountMicros, r.reason])).toEqual([[1_000_000, "(removed: it named the person)"]]);
    expect(after.tombstone).toMatchObject({ state: "canceled", role: "user" });
    expect(after.tombstone!.tokenIdentifier).toMatch(/^tombstone\|[0-9a-f]{24}$/);
    expect(after.invoices.map((i) => [i.amountMicros, i.status, i.providerInvoiceId, i.hostedUrl])).toEqual(
      before.invoices.map((i) => [i.amountMicros, i.status, i.providerInvoiceId, undefined]),
    );
    expect(after.daily.map((d) => [d.day, d.model, d.tokensIn, d.requests])).toEqual(before.daily.map((d) => [d.day, d.model, d.tokensIn, d.requests]));
    expect(after.monthly.map((m) => [m.month, m.tokensIn, m.costMicros, m.holds])).toEqual(before.monthly.map((m) => [m.month, m.tokensIn, m.costMicros, []]));
    // The audit trail keeps its actions under the tombstone.
    const actions = after.audit.map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(["account.created", "signup.completed", "account.cancel", "account.note"]));
    expect(after.audit.find((a) => a.action === "account.note")?.reason).toBeUndefined();
    // Bob is untouched.
    expect(after.bob).toHaveLength(1);

    // The same person signing in again starts a brand-new trial.
    const again = await ada.as.mutation(api.signup.account.ensure, {});
    expect(again.status).toBe("created");
    expect(again.userId).not.toBe(ada.userId);
    expect(await ada.as.query(api.users.viewer.get, {})).toMatchObject({ email: ada.email, state: "trial", plan: "trial" });
  }, 60_000);

  test("a second request while one runs returns the same request; access stops at once", async () => {
    const t = stack.deployment();
    const { userId, as } = await signIn(t, "twice@example.com");
    await t.mutation(internal.cli.createApiKey, { email: "twice@example.com" });
    const first = await as.mutation(api.privacy.requests.deleteMine, { confirmEmail: "twice@example.com" });
    const second = await as.mutation(api.privacy.requests.deleteMine, { confirmEmail: "twice@example.com" });
    expect(first.existing).toBe(false);
    expect(second).toEqual({ requestId: first.requestId, existing: true });
    expect(await as.query(api.privacy.requests.mine, {})).toMatchObject({ _id: first.requestId, source: "user" });
    await finished(t, first.requestId);
    expect(await t.run((ctx) => ctx.db.query("deletionRequests").collect())).toHaveLength(1);
    expect(await t.run((ctx) => ctx.db.get("users", userId))).toBeNull();
    // The old session's calls now fail as signed out of any account.
    expect(await errorCodeOf(as.query(api.privacy.requests.mine, {}))).toBe("ACCOUNT_NOT_FOUND");
  });
});

describe("the other doors", () => {
  test("support deletes with a reason (audit-logged); customers cannot delete others; only admins delete staff", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t);
    const { as: mallory } = await signIn(t, "mallory@example.com");
    const { userId: supportId, as: support } = await signIn(t, "agent@poindexter.test", "support");
    const { userId: otherStaff } = await signIn(t, "agent2@poindexter.test", "support");

    expect(await errorCodeOf(mallory.mutation(api.privacy.support.requestDeletionFor, { userId: ada.userId, reason: "because" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(mallory.query(api.privacy.support.forAccount, { userId: ada.userId }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(support.mutation(api.privacy.support.requestDeletionFor, { userId: ada.userId, reason: " " }))).toBe("INVALID_ARGUMENT");
    expect(await errorCodeOf(support.mutation(api.privacy.support.requestDeletionFor, { userId: otherStaff, reason: "ticket 7" }))).toBe("FORBIDDEN");
    expect(await errorCodeOf(support.mutation(api.privacy.support.requestDeletionFor, { userId: supportId, reason: "ticket 7" }))).toBe("FORBIDDEN");

    const { requestId } = await support.mutation(api.privacy.support.requestDeletionFor, { userId: ada.userId, reason: `GDPR erasure request, ticket 4711, from ${ada.email}` });
    const view = await support.query(api.privacy.support.forAccount, { userId: ada.userId });
    expect(view).toMatchObject({ _id: requestId, source: "support", requestedBy: "agent@poindexter.test" });
    const done = await finished(t, requestId);
    expect(done.source).toBe("support");
    await expectNoTrace(t, ada);
    // The request and its audit trail stay, attributed to the agent, without the person's address.
    expect(done.reason).toBe("(removed: it named the person)");
    const log = await t.run((ctx) => ctx.db.query("auditLogs").withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "deletionRequest").eq("targetId", requestId)).collect());
    expect(log.find((a) => a.action === "account.deletion_requested")).toMatchObject({ actorId: supportId, actorLabel: "agent@poindexter.test" });
    expect(log.map((a) => a.action)).toEqual(expect.arrayContaining(["account.deletion_block_access", "account.deletion_erase", "account.deletion_finalize", "account.deleted"]));
    const list = await support.query(api.privacy.support.list, {});
    expect(list.done.map((r) => r._id)).toContain(requestId);
  }, 60_000);

  test("Clerk's user.deleted deletes the account it names", async () => {
    const t = stack.deployment();
    vi.stubEnv("CLERK_JWT_ISSUER_DOMAIN", ISSUER);
    const ada = await fullyUsedAccount(t);
    const result = await t.mutation(internal.clerk.events.record, { eventId: "msg_del_1", type: "user.deleted", event: { kind: "user.deleted", clerkUserId: ada.clerkUserId } });
    expect(result.outcome).toBe("deletion_requested");
    const [row] = await t.run((ctx) => ctx.db.query("deletionRequests").collect());
    expect(row.source).toBe("clerk");
    await finished(t, row._id);
    await expectNoTrace(t, ada);
    // A redelivery finds the webhook's record and starts nothing.
    expect((await t.mutation(internal.clerk.events.record, { eventId: "msg_del_1", type: "user.deleted", event: { kind: "user.deleted", clerkUserId: ada.clerkUserId } })).replayed).toBe(true);
    expect(await t.run((ctx) => ctx.db.query("deletionRequests").collect())).toHaveLength(1);
  }, 60_000);
});

describe("robustness", () => {
  test("a step run twice does nothing twice; a crash mid-erase resumes from the cursor", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t, "ada", { checkout: false });
    // Enough raw events that erase takes several batches of its own.
    await t.run(async (ctx) => {
      for (let i = 0; i < 450; i++) {
        await ctx.db.insert("usageEvents", {
          userId: ada.userId, requestId: `bulk${i}`, kind: "chat", provider: "openai", model: "gpt-4o-mini", tokensIn: 1, tokensOut: 1, characters: 0,
          costMicros: 1, priceVersion: "v", usageSource: "provider", latencyMs: 1, status: "ok", httpStatus: 200, at: Date.now() - 2 * HOUR,
        });
      }
    });
    await t.mutation(internal.usage.rollup.foldEvents, {});
    // From here the scheduler's timers stand still: the test is the scheduler, run by run.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    const requestId = await t.run((ctx) =>
      ctx.db.insert("deletionRequests", { userId: ada.userId, requestedAt: Date.now(), source: "support", status: "requested", requestedBy: "agent", steps: newSteps() }),
    );
    const run = () => t.mutation(internal.privacy.process.run, { requestId });
    const audits = async () => (await t.run((ctx) => ctx.db.query("auditLogs").collect())).length;

    await run();
    expect((await request(t, requestId)).steps![0]).toMatchObject({ name: "block_access", status: "done", attempts: 1 });
    await run(); // cancel_subscription: running, its action enqueued
    const n = await audits();
    await run(); // a duplicate kick while the action is out: nothing
    expect(await audits()).toBe(n);
    await t.action(internal.privacy.providers.cancelSubscriptions, { requestId });
    // The action reporting twice (a retried completion) records it once.
    await t.mutation(internal.privacy.process.recordCancel, { requestId, result: { ok: true, note: "late duplicate" } });
    expect((await request(t, requestId)).steps![1]).toMatchObject({ status: "done", note: "no live subscription", attempts: 1 });
    expect(await audits()).toBe(n + 1);
    await run(); // await_providers: nothing pending
    expect((await request(t, requestId)).steps![2].status).toBe("done");

    // erase, batch by batch, until the raw usage events are being deleted.
    const eventsLeft = async () => (await t.run((ctx) => ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", ada.userId)).collect())).length;
    let runs = 0;
    while ((await eventsLeft()) === 455 && runs < 100) {
      await run();
      runs += 1;
    }
    const mid = await request(t, requestId);
    expect(mid.steps![3]).toMatchObject({ name: "erase", status: "running" });
    expect(await eventsLeft()).toBe(255);
    // The same batch again (its cursor write lost, say): it finds what is left and goes on.
    await t.run((ctx) => ctx.db.patch("deletionRequests", requestId, { eraseCursor: { ...mid.eraseCursor!, page: null } }));
    await run();
    expect(await eventsLeft()).toBe(55);
    // The backend "crashes": the scheduled next run is lost. The sweep finds the request idle and
    // kicks it; the runner resumes from the stored cursor.
    vi.setSystemTime(Date.now() + 2 * 60_000);
    expect(await t.mutation(internal.privacy.process.sweep, {})).toBe(1);
    for (let i = 0; i < 100 && (await request(t, requestId)).status !== "done"; i++) await run();
    const done = await request(t, requestId);
    expect(done.status).toBe("done");
    expect(done.steps!.map((s) => s.attempts)).toEqual([1, 1, 1, 1, 1]);
    vi.useRealTimers();
    await expectNoTrace(t, ada);
    // Running the finished request again does nothing.
    await run();
    expect((await request(t, requestId)).steps).toEqual(done.steps);
  }, 60_000);

  test("a live identity is deprovisioned with no retention wait, and erase waits for it", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t, "ada", { checkout: false });
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const now = Date.now();
    // An active identity whose Workspace user exists: cancelling it must delete the user now,
    // not after IDENTITY_RETENTION_DAYS as an ordinary cancellation does.
    const identityId = await t.run(async (ctx) =>
      ctx.db.insert("identities", {
        userId: ada.userId, phase: "active", signalStatus: "none", workspaceEmail: "dex-live01@dex.poindexter.test", workspaceUserId: "ws_live",
        steps: [
          { name: "workspace_user", status: "done", updatedAt: now },
          { name: "mailbox", status: "done", updatedAt: now },
        ],
        createdAt: now, updatedAt: now, activatedAt: now,
      }),
    );
    const requestId = await t.run((ctx) =>
      ctx.db.insert("deletionRequests", { userId: ada.userId, requestedAt: now, source: "user", status: "requested", requestedBy: "self", steps: newSteps() }),
    );
    const run = () => t.mutation(internal.privacy.process.run, { requestId });
    await run(); // block_access
    const identity = (await t.run((ctx) => ctx.db.get("identities", identityId)))!;
    expect(identity.phase).toBe("deprovisioning");
    const del = identity.steps.find((st) => st.name === "workspace_delete");
    expect(del?.notBefore).toBeLessThanOrEqual(Date.now());
    await run(); // cancel_subscription starts
    await t.action(internal.privacy.providers.cancelSubscriptions, { requestId });
    await run(); // await_providers: the identity is still deprovisioning
    const waiting = await request(t, requestId);
    expect(waiting.steps![2]).toMatchObject({ name: "await_providers", status: "running", note: "waiting: 1 identity(ies) still deprovisioning" });
    expect(waiting.wakeAt).toBeGreaterThan(Date.now());
    // The identity's steps finish (the workpool's runs, here by hand): the next look goes on.
    await t.run((ctx) => ctx.db.patch("identities", identityId, { phase: "deprovisioned", deprovisionedAt: Date.now() }));
    await t.run((ctx) => ctx.db.patch("deletionRequests", requestId, { wakeAt: undefined }));
    await run();
    expect((await request(t, requestId)).steps![2]).toMatchObject({ status: "done", note: "providers confirmed; identity deprovisioned; usage rolled up" });
    for (let i = 0; i < 100 && (await request(t, requestId)).status !== "done"; i++) await run();
    vi.useRealTimers();
    expect((await request(t, requestId)).status).toBe("done");
    await expectNoTrace(t, ada);
  }, 60_000);

  test("a step that keeps failing backs off, then waits for support, who re-runs it", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t);
    // The provider refuses: Stripe's key is wrong, so cancel_subscription fails every time.
    vi.stubEnv("STRIPE_SECRET_KEY", "");
    const { as: support } = await signIn(t, "agent@poindexter.test", "support");
    const { requestId } = await support.mutation(api.privacy.support.requestDeletionFor, { userId: ada.userId, reason: "ticket 9" });
    const waiting = await until("the cancel step to fail once", () => request(t, requestId), (r) => r.steps?.[1].lastError !== undefined);
    expect(waiting.steps![1]).toMatchObject({ name: "cancel_subscription", status: "pending", attempts: 1 });
    expect(waiting.steps![1].lastError).toMatch(/STRIPE_SECRET_KEY/);
    expect(waiting.wakeAt).toBeGreaterThan(Date.now());
    expect(await errorCodeOf(support.mutation(api.privacy.support.retryStep, { requestId, step: "cancel_subscription", reason: "key fixed" }))).toBe("ILLEGAL_TRANSITION");
    // Exhaust the attempts (as the backoff would over hours), then support re-runs it with the key back.
    await t.run(async (ctx) => {
      const r = (await ctx.db.get("deletionRequests", requestId))!;
      await ctx.db.patch("deletionRequests", requestId, { steps: r.steps!.map((s) => (s.name === "cancel_subscription" ? { ...s, status: "failed" as const } : s)), wakeAt: undefined });
    });
    vi.stubEnv("STRIPE_SECRET_KEY", "sk_test_simulator");
    await support.mutation(api.privacy.support.retryStep, { requestId, step: "cancel_subscription", reason: "key fixed" });
    await finished(t, requestId);
    await expectNoTrace(t, ada);
  }, 60_000);
});

describe("deprovision requests", () => {
  test("an ended subscription's deprovision request is recorded fulfilled when no identity stays live", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t, "ada");
    const sub = await t.run(async (ctx) => (await ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", ada.userId)).first())!);
    await control(stack.sim, `/_sim/stripe/subscriptions/${sub.providerSubscriptionId}/cancel`);
    const rows = await t.run((ctx) => ctx.db.query("deprovisionRequests").withIndex("by_userId", (q) => q.eq("userId", ada.userId)).collect());
    expect(rows.map((r) => [r.providerSubscriptionId, r.status, typeof r.fulfilledAt])).toEqual([[sub.providerSubscriptionId, "fulfilled", "number"]]);
  }, 60_000);
});

describe("Download my data", () => {
  test("exports the account as JSON with no secrets, and pages through usage events", async () => {
    const t = stack.deployment();
    const ada = await fullyUsedAccount(t);
    const account = JSON.parse((await ada.as.query(api.privacy.export.mine, { part: "account", cursor: null })).json) as Record<string, any>;
    expect(account.profile).toMatchObject({ email: ada.email, name: ada.name, plan: "pro" });
    expect(account.invoices.rows).toHaveLength(1);
    expect(account.apiKeys.rows[0]).toMatchObject({ prefix: expect.stringMatching(/^pk_/), lastUsedIp: "203.0.113.9" });
    expect(account.identities.rows[0]).toMatchObject({ phoneNumber: ada.phone, workspaceEmail: ada.workspaceEmail });
    expect(account.incomingSms.rows.length).toBeGreaterThan(0);
    expect(account.oauthGrants.rows[0]).toMatchObject({ instanceId: "dex-ada" });
    expect(account.auditLog.rows.length).toBeGreaterThan(0);
    const text = JSON.stringify(account);
    const secrets = await t.run(async (ctx) => [
      ...(await ctx.db.query("apiKeys").collect()).map((k) => k.hash),
      ...(await ctx.db.query("oauthTokens").collect()).map((k) => k.tokenHash),
      ...(await ctx.db.query("providerCredentials").collect()).map((k) => k.tokenHash),
    ]);
    for (const s of secrets) expect(text).not.toContain(s);
    const first = await ada.as.query(api.privacy.export.mine, { part: "usageEvents", cursor: null });
    expect(JSON.parse(first.json)).toHaveLength(5);
    expect(first.nextCursor).toBeNull();
  }, 60_000);
});
