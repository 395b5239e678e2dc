// The unsubscribe link: a valid token stops tips (GET as clicked, POST as a mailbox provider's
// one-click); a tampered or missing one changes nothing and says so.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import type { Id } from "../_generated/dataModel";
import { signUnsubscribeToken } from "../model/email/unsubscribe";
import { customer, newTest, type TestConvex } from "../test.setup";
import { ENCRYPTION_KEY } from "./simulator.setup";

beforeEach(() => {
  vi.stubEnv("ENCRYPTION_KEY", ENCRYPTION_KEY);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

async function optOutOf(t: TestConvex, userId: Id<"users">): Promise<number | undefined> {
  return (await t.run((ctx) => ctx.db.get("users", userId)))!.marketingOptOutAt;
}

const path = (token: string) => `/email/unsubscribe?token=${encodeURIComponent(token)}`;

describe("GET/POST /email/unsubscribe", () => {
  test("a valid link unsubscribes from tips, once, and says what still arrives", async () => {
    const t = newTest();
    const { userId } = await customer(t, "trial", "bye@example.com");
    const token = await signUnsubscribeToken(ENCRYPTION_KEY, userId);

    const res = await t.fetch(path(token));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain("You will no longer get tips and reminders from Poindexter. Receipts and alerts still arrive.");
    const at = await optOutOf(t, userId);
    expect(at).toBeTypeOf("number");

    // Clicking again (or the provider's one-click after the person's click) changes nothing.
    expect((await t.fetch(path(token))).status).toBe(200);
    expect(await optOutOf(t, userId)).toBe(at);
    const audit = await t.run((ctx) => ctx.db.query("auditLogs").collect());
    expect(audit.filter((a) => a.action === "email.unsubscribed")).toEqual([
      expect.objectContaining({ actorId: userId, targetType: "user", targetId: userId }),
    ]);
  });

  test("one-click POST (RFC 8058) unsubscribes too", async () => {
    const t = newTest();
    const { userId } = await customer(t, "trial", "oneclick@example.com");
    const token = await signUnsubscribeToken(ENCRYPTION_KEY, userId);
    const res = await t.fetch(path(token), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "List-Unsubscribe=One-Click",
    });
    expect(res.status).toBe(200);
    expect(await optOutOf(t, userId)).toBeTypeOf("number");
  });

  test("a tampered token answers 400 and changes nothing", async () => {
    const t = newTest();
    const { userId } = await customer(t, "trial", "victim@example.com");
    const { userId: other } = await customer(t, "trial", "attacker@example.com");
    const token = await signUnsubscribeToken(ENCRYPTION_KEY, other);
    const [payload, mac] = token.split(".");
    // Someone else's id under the attacker's signature, a flipped MAC, a key nobody holds.
    const forged = [
      `${btoa(`${userId}.marketing`).replace(/=+$/, "")}.${mac}`,
      `${payload}.${mac.startsWith("A") ? "B" : "A"}${mac.slice(1)}`,
      await signUnsubscribeToken("another-key", userId),
      "garbage",
    ];
    for (const bad of forged) {
      const res = await t.fetch(path(bad));
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("This unsubscribe link is not valid");
    }
    expect(await optOutOf(t, userId)).toBeUndefined();
    expect(await optOutOf(t, other)).toBeUndefined();
  });

  test("a missing token answers 400", async () => {
    const t = newTest();
    for (const p of ["/email/unsubscribe", "/email/unsubscribe?token="]) {
      const res = await t.fetch(p);
      expect(res.status).toBe(400);
      expect(await res.text()).toContain("nothing was changed");
    }
    expect((await t.fetch("/email/unsubscribe", { method: "POST", body: "List-Unsubscribe=One-Click" })).status).toBe(400);
  });

  test("without ENCRYPTION_KEY no token is accepted", async () => {
    const t = newTest();
    const { userId } = await customer(t, "trial", "nokey@example.com");
    const token = await signUnsubscribeToken(ENCRYPTION_KEY, userId);
    vi.stubEnv("ENCRYPTION_KEY", "");
    expect((await t.fetch(path(token))).status).toBe(400);
    expect(await optOutOf(t, userId)).toBeUndefined();
  });
});
