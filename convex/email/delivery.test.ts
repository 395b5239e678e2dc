// The onboarding mail as a person and support see it: what arrives in the inbox (the provider
// simulator's captured mail, over real HTTP), when, how often, and the status on the row.
import { describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { queueEmail, queueOnboardingEmails } from "../lib/emailOutbox";
import { customer, newTest, type TestConvex, usageEvent } from "../test.setup";
import { APP_URL, inbox, mailClock, SITE_URL, startEmailSimulator, stubEmailEnv, useEmailSimulator } from "./simulator.setup";

const HOUR = 60 * 60 * 1000;
const START = Date.UTC(2026, 10, 10, 9);

const sim = useEmailSimulator();

async function rows(t: TestConvex, userId: Id<"users">): Promise<Doc<"emailOutbox">[]> {
  return await t.run((ctx) => ctx.db.query("emailOutbox").withIndex("by_userId_and_queuedAt", (q) => q.eq("userId", userId)).collect());
}

function statusOf(all: Doc<"emailOutbox">[]): Record<string, string> {
  return Object.fromEntries(all.map((r) => [r.template, r.status]));
}

async function onboard(t: TestConvex, userId: Id<"users">): Promise<void> {
  await t.run(async (ctx) => {
    const user = await ctx.db.get("users", userId);
    await queueOnboardingEmails(ctx, user!);
  });
}

async function auditActions(t: TestConvex): Promise<string[]> {
  return (await t.run((ctx) => ctx.db.query("auditLogs").collect())).map((a) => a.action).filter((a) => a.startsWith("email."));
}

function emailPosts() {
  return sim.requests({ pathPrefix: "/emails" }).filter((r) => r.method === "POST");
}

describe("the welcome mail", () => {
  test("arrives once after signup with the first key's prefix and links, never the secret", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const ada = t.withIdentity({ subject: "ada", issuer: "https://issuer", email: "ada@example.com" });
    const signup = await ada.mutation(api.signup.account.ensure, {});
    if (signup.status !== "created") throw new Error(`signup: ${signup.status}`);
    const { firstKey, userId } = signup;
    await clock.settle(t, START + HOUR);

    const mail = await inbox(sim, "ada@example.com");
    expect(mail).toHaveLength(1);
    const [welcome] = mail;
    expect(welcome.subject).toMatch(/Welcome to Poindexter/);
    expect(welcome.from).toBe("Poindexter <hello@poindexter.dev>");
    for (const body of [welcome.text, welcome.html!]) {
      expect(body).toContain(firstKey.prefix);
      expect(body).toContain(`${APP_URL}/keys`);
      expect(body).toContain(`${APP_URL}/`);
      expect(body).toContain(`${SITE_URL}/v1`);
      expect(body).not.toContain(firstKey.secret);
      // Not even the part of the secret after the displayed prefix.
      expect(body).not.toContain(firstKey.secret.slice(firstKey.prefix.length));
    }
    // Transactional: no unsubscribe.
    expect(welcome.headers["List-Unsubscribe"]).toBeUndefined();

    const all = await rows(t, userId);
    const row = all.find((r) => r.template === "welcome")!;
    expect(row).toMatchObject({ status: "sent", providerMessageId: welcome.id, subject: welcome.subject });
    expect(row.sentAt).toBeGreaterThanOrEqual(START);
    // The provider was asked once, under the row's id as Idempotency-Key.
    expect(emailPosts().map((r) => r.headers["idempotency-key"])).toEqual([row._id]);
    expect(statusOf(all)).toEqual({ welcome: "sent", followup_24h: "queued", followup_72h: "queued", followup_1w: "queued" });
    expect(await auditActions(t)).toEqual(["email.welcome.sent"]);
  });

  test("queuing the same mail twice keeps one row and sends once", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "twice@example.com");
    const [a, b] = await t.run(async (ctx) => [
      await queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }),
      await queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }),
    ]);
    expect(a).toBe(b);
    await onboard(t, userId);
    await clock.settle(t, START + HOUR);
    expect(await inbox(sim, email)).toHaveLength(1);
    expect((await rows(t, userId)).filter((r) => r.template === "welcome")).toHaveLength(1);
  });
});

describe("the follow-ups", () => {
  test("arrive at 24 h, 72 h and one week, with setup steps until Dex makes a request and usage after", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email, secret } = await customer(t, "trial", "steps@example.com");
    await onboard(t, userId);

    await clock.settle(t, START + 24 * HOUR - 60_000);
    expect((await inbox(sim, email)).map((m) => m.subject)).toEqual([expect.stringMatching(/Welcome/)]);

    await clock.settle(t, START + 24 * HOUR + 60_000);
    const day1 = (await inbox(sim, email))[1];
    expect(day1.subject).toMatch(/Connect Dex/);
    expect(day1.text).toContain(`${SITE_URL}/v1`);
    expect(day1.text).toContain(secret.slice(0, 16));
    expect(day1.text).not.toContain(secret);
    expect(day1.text).not.toMatch(/So far Dex has made/);
    // Marketing: a signed unsubscribe link, also as one-click headers (RFC 8058).
    expect(day1.text).toMatch(new RegExp(`${SITE_URL}/email/unsubscribe\\?token=[\\w.%-]+`));
    expect(day1.headers["List-Unsubscribe"]).toMatch(new RegExp(`^<${SITE_URL}/email/unsubscribe\\?token=`));
    expect(day1.headers["List-Unsubscribe-Post"]).toBe("List-Unsubscribe=One-Click");

    // Dex starts using the account on day two.
    await usageEvent(t, userId, { tokensIn: 1_200, tokensOut: 300 });
    await usageEvent(t, userId, { tokensIn: 800, tokensOut: 200 });

    await clock.settle(t, START + 72 * HOUR - 60_000);
    expect(await inbox(sim, email)).toHaveLength(2);
    await clock.settle(t, START + 72 * HOUR + 60_000);
    const day3 = (await inbox(sim, email))[2];
    expect(day3.subject).toMatch(/Three days in/);
    expect(day3.text).toContain("2 requests");
    expect(day3.text).toContain("2,500 tokens");
    // What the paid plans add, from the plan table.
    expect(day3.text).toContain("Basic, $50/month");
    expect(day3.text).toContain("Pro, $250/month");
    expect(day3.text).not.toContain("set the base URL");

    await clock.settle(t, START + 7 * 24 * HOUR + 60_000);
    const mail = await inbox(sim, email);
    expect(mail.map((m) => m.subject)).toEqual([
      expect.stringMatching(/Welcome/),
      expect.stringMatching(/Connect Dex/),
      expect.stringMatching(/Three days in/),
      expect.stringMatching(/first week/),
    ]);
    const all = await rows(t, userId);
    expect(statusOf(all)).toEqual({ welcome: "sent", followup_24h: "sent", followup_72h: "sent", followup_1w: "sent" });
    for (const row of all) expect(row.sentAt).toBeGreaterThanOrEqual(row.sendAfter);
    expect(emailPosts()).toHaveLength(4);
  });

  test("stop after an unsubscribe while transactional mail still goes", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "stop@example.com");
    await onboard(t, userId);
    await clock.settle(t, START + 24 * HOUR + 60_000);
    const day1 = (await inbox(sim, email))[1];
    const link = /(https:\/\/\S+\/email\/unsubscribe\?token=[^\s)]+)/.exec(day1.text)![1];

    const page = await t.fetch(link.slice(SITE_URL.length));
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("You will no longer get tips and reminders from Poindexter. Receipts and alerts still arrive.");

    await clock.settle(t);
    expect(await inbox(sim, email)).toHaveLength(2);
    const all = await rows(t, userId);
    expect(statusOf(all)).toEqual({ welcome: "sent", followup_24h: "sent", followup_72h: "skipped", followup_1w: "skipped" });
    expect(all.find((r) => r.template === "followup_72h")!.skipReason).toMatch(/unsubscribed/);
    expect(await auditActions(t)).toEqual([
      "email.welcome.sent",
      "email.followup_24h.sent",
      "email.unsubscribed",
      "email.followup_72h.skipped",
      "email.followup_1w.skipped",
    ]);
  });

  test("an account that opted out before signing up still gets its welcome mail", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "optout@example.com");
    await t.run((ctx) => ctx.db.patch("users", userId, { marketingOptOutAt: START }));
    await onboard(t, userId);
    await clock.settle(t);
    expect((await inbox(sim, email)).map((m) => m.subject)).toEqual([expect.stringMatching(/Welcome/)]);
    expect(statusOf(await rows(t, userId))).toEqual({ welcome: "sent", followup_24h: "skipped", followup_72h: "skipped", followup_1w: "skipped" });
  });

  test("are skipped, not sent, when the account is gone", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "gone@example.com");
    await onboard(t, userId);
    await clock.settle(t, START + HOUR);
    await t.run((ctx) => ctx.db.delete("users", userId));
    await clock.settle(t);
    expect(await inbox(sim, email)).toHaveLength(1);
    const all = await rows(t, userId);
    expect(statusOf(all)).toMatchObject({ followup_24h: "skipped", followup_1w: "skipped" });
    expect(all.find((r) => r.template === "followup_1w")!.skipReason).toMatch(/no longer exists/);
  });
});

describe("failures", () => {
  test("an email API outage is retried until it recovers, and the mail arrives once", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "outage@example.com");
    sim.configure({ fail: { status: 503, count: 2, pathPrefix: "/emails" } });
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    expect(emailPosts().map((r) => r.status)).toEqual([503, 503, 200]);
    expect(await inbox(sim, email)).toHaveLength(1);
    const [row] = await rows(t, userId);
    expect(row.status).toBe("sent");
    expect(row.lastError).toBeUndefined();
    // Backoff: the retries waited (30 s and 60 s nominal, scaled 0.5-1.5 by the workpool).
    expect(row.sentAt! - START).toBeGreaterThanOrEqual(45_000);
    // Same Idempotency-Key on every attempt.
    expect(new Set(emailPosts().map((r) => r.headers["idempotency-key"]))).toEqual(new Set([row._id]));
  });

  test.each([
    ["rate limiting (429)", { status: 429 }],
    ["another attempt in flight (409 concurrent_idempotent_requests)", { status: 409, code: "concurrent_idempotent_requests" }],
  ])("%s is retried too", async (_name, failure) => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "busy@example.com");
    sim.configure({ fail: { ...failure, count: 1, pathPrefix: "/emails" } });
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    expect(emailPosts().map((r) => r.status)).toEqual([failure.status, 200]);
    expect((await rows(t, userId))[0].status).toBe("sent");
    expect(await inbox(sim, email)).toHaveLength(1);
  });

  test("an unreachable email API is retried, then the mail is marked failed", async () => {
    const clock = mailClock(START);
    const t = newTest();
    // A port nothing listens on: the connection is refused at once.
    const closed = await startEmailSimulator();
    await closed.close();
    vi.stubEnv("EMAIL_BASE_URL", closed.url);
    const { userId, email } = await customer(t, "trial", "unreachable@example.com");
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    const [row] = await rows(t, userId);
    expect(row.status).toBe("failed");
    expect(row.lastError).toMatch(/gave up.*could not be reached/);
    // Seven attempts spread over the backoff (30 s doubling, six waits, each at least half).
    expect(Date.now() - START).toBeGreaterThanOrEqual(0.5 * 30_000 * (1 + 2 + 4 + 8 + 16 + 32));
  });

  test("an outage that outlasts the retries marks the mail failed and alerts support", async () => {
    const clock = mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "down@example.com");
    sim.configure({ fail: { status: 500, count: 100, pathPrefix: "/emails" } });
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    expect(emailPosts()).toHaveLength(7);
    expect(await inbox(sim, email)).toHaveLength(0);
    const [row] = await rows(t, userId);
    expect(row.status).toBe("failed");
    expect(row.lastError).toMatch(/gave up.*HTTP 500/);
    const alerts = await t.run((ctx) => ctx.db.query("alerts").withIndex("by_kind_and_at", (q) => q.eq("kind", "email_failed")).collect());
    expect(alerts).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringContaining(email) })]);
    // For support, not on the customer's dashboard.
    expect(alerts[0].userId).toBeUndefined();
  });

  test.each([
    ["a bad API key (403)", { apiKey: "re_invalid" }, /403/],
    ["a validation error (422)", { fail: 422 }, /422/],
  ])("%s is permanent: failed at once, with an alert, never retried", async (_name, setup, error) => {
    const clock = mailClock(START);
    const t = newTest();
    if ("apiKey" in setup) stubEmailEnv(sim, setup.apiKey);
    else sim.configure({ fail: { status: setup.fail, count: 1, pathPrefix: "/emails" } });
    const { userId, email } = await customer(t, "trial", "refused@example.com");
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    expect(emailPosts()).toHaveLength(1);
    const [row] = await rows(t, userId);
    expect(row.status).toBe("failed");
    expect(row.lastError).toMatch(error);
    expect(await t.run((ctx) => ctx.db.query("alerts").collect())).toEqual([expect.objectContaining({ kind: "email_failed", severity: "warning" })]);
    expect(await auditActions(t)).toEqual(["email.welcome.failed"]);
  });

  test("a deployment without APP_URL fails the mail with a reason support can act on", async () => {
    const clock = mailClock(START);
    const t = newTest();
    stubEmailEnv(sim);
    vi.stubEnv("APP_URL", "");
    const { userId, email } = await customer(t, "trial", "noapp@example.com");
    await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    await clock.settle(t);
    expect(emailPosts()).toHaveLength(0);
    expect((await rows(t, userId))[0]).toMatchObject({ status: "failed", lastError: expect.stringMatching(/APP_URL/) });
  });
});

describe("prepare", () => {
  test("a retry sends the first attempt's exact mail, so the Idempotency-Key still matches", async () => {
    // The clock never advances: the queued send stays queued while the test drives prepare.
    mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "retry@example.com");
    const outboxId = await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "followup_24h", category: "marketing" }));
    const first = await t.mutation(internal.email.delivery.prepare, { outboxId });
    // Usage lands between the two attempts; the follow-up would now render differently.
    await usageEvent(t, userId);
    const retry = await t.mutation(internal.email.delivery.prepare, { outboxId });
    expect(first.kind).toBe("send");
    expect(retry).toEqual(first);
  });

  test("never starts a row that is already sent, failed or skipped", async () => {
    mailClock(START);
    const t = newTest();
    const { userId, email } = await customer(t, "trial", "final@example.com");
    const outboxId = await t.run((ctx) => queueEmail(ctx, { userId, to: email, template: "welcome", category: "transactional" }));
    for (const status of ["sent", "failed", "skipped"] as const) {
      await t.run((ctx) => ctx.db.patch("emailOutbox", outboxId, { status }));
      expect(await t.mutation(internal.email.delivery.prepare, { outboxId })).toEqual({ kind: "skip" });
      expect((await t.run((ctx) => ctx.db.get("emailOutbox", outboxId)))!.status).toBe(status);
    }
  });
});
