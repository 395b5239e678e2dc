// POST /webhooks/clerk end to end: payloads signed with the Standard Webhooks signer under
// Svix's header names, sent through the deployment's HTTP router.
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { Webhook } from "standardwebhooks";
import { newTest, type TestConvex } from "../test.setup";

const ISSUER = "https://poindexter-test.clerk.accounts.dev";
// Standard Webhooks secrets are whsec_ + base64 of the key bytes.
const SECRET = `whsec_${btoa("clerk-webhook-test-key-32-bytes!")}`;
const OTHER_SECRET = `whsec_${btoa("some-other-endpoint-secret-bytes")}`;

let seq = 0;
const nextId = () => `msg_test_${++seq}`;

function signedRequest(
  payload: unknown,
  opts: { id?: string; secret?: string; at?: Date; body?: string; omit?: string } = {},
): RequestInit {
  const id = opts.id ?? nextId();
  const at = opts.at ?? new Date();
  const signed = JSON.stringify(payload);
  const signature = new Webhook(opts.secret ?? SECRET).sign(id, at, signed);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "svix-id": id,
    "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
    "svix-signature": signature,
  };
  if (opts.omit) delete headers[opts.omit];
  return { method: "POST", headers, body: opts.body ?? signed };
}

async function post(t: TestConvex, init: RequestInit) {
  const res = await t.fetch("/webhooks/clerk", init);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

function clerkUser(id: string, email: string, updatedAt = Date.now()) {
  return {
    id,
    object: "user",
    primary_email_address_id: `idn_${id}`,
    email_addresses: [
      {
        id: `idn_${id}`,
        object: "email_address",
        email_address: email,
        verification: { status: "verified", strategy: "email_code" },
      },
    ],
    updated_at: updatedAt,
  };
}

const updated = (id: string, email: string, updatedAt?: number) => ({
  type: "user.updated",
  object: "event",
  data: clerkUser(id, email, updatedAt),
});

async function account(t: TestConvex, clerkUserId: string, email: string) {
  return await t.run(async (ctx) =>
    ctx.db.insert("users", {
      tokenIdentifier: `${ISSUER}|${clerkUserId}`,
      email,
      role: "user",
      state: "trial",
      plan: "trial",
      lastSeenAt: Date.now(),
    }),
  );
}

async function tables(t: TestConvex) {
  return await t.run(async (ctx) => ({
    events: await ctx.db.query("webhookEvents").collect(),
    deletions: await ctx.db.query("deletionRequests").collect(),
    audits: await ctx.db.query("auditLogs").collect(),
    users: await ctx.db.query("users").collect(),
  }));
}

beforeEach(() => {
  vi.stubEnv("CLERK_WEBHOOK_SECRET", SECRET);
  vi.stubEnv("CLERK_JWT_ISSUER_DOMAIN", ISSUER);
});
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("signature checks: 400 with a JSON message, nothing recorded", () => {
  test("a valid signature is accepted and the event recorded", async () => {
    const t = newTest();
    const init = signedRequest({ type: "user.created", data: clerkUser("user_a", "a@example.com") }, { id: "msg_valid" });
    const res = await post(t, init);
    expect(res).toEqual({ status: 200, body: { received: true, outcome: "ignored", replayed: false } });
    const { events } = await tables(t);
    expect(events).toEqual([
      expect.objectContaining({ provider: "clerk", eventId: "msg_valid", type: "user.created", outcome: "ignored" }),
    ]);
    expect(typeof events[0].receivedAt).toBe("number");
  });

  const refusals: [string, (payload: unknown) => RequestInit, RegExp][] = [
    [
      "tampered body",
      (p) => signedRequest(p, { body: JSON.stringify({ ...(p as object), type: "user.deleted" }) }),
      /signature/i,
    ],
    ["wrong secret", (p) => signedRequest(p, { secret: OTHER_SECRET }), /signature/i],
    ["missing svix-id", (p) => signedRequest(p, { omit: "svix-id" }), /svix-id/],
    ["missing svix-timestamp", (p) => signedRequest(p, { omit: "svix-timestamp" }), /svix-timestamp/],
    ["missing svix-signature", (p) => signedRequest(p, { omit: "svix-signature" }), /svix-signature/],
    ["timestamp 6 minutes old", (p) => signedRequest(p, { at: new Date(Date.now() - 6 * 60_000) }), /too old/],
    ["timestamp 6 minutes ahead", (p) => signedRequest(p, { at: new Date(Date.now() + 6 * 60_000) }), /too new/],
  ];
  for (const [name, make, message] of refusals) {
    test(name, async () => {
      const t = newTest();
      await account(t, "user_victim", "victim@example.com");
      const res = await post(t, make(updated("user_victim", "attacker@example.com")));
      expect(res.status).toBe(400);
      expect(res.body.error).toMatch(message);
      const { events, users, audits } = await tables(t);
      expect(events).toEqual([]);
      expect(audits).toEqual([]);
      expect(users[0].email).toBe("victim@example.com");
    });
  }

  test("a timestamp inside the 5 minutes is accepted", async () => {
    const t = newTest();
    const res = await post(t, signedRequest({ type: "user.created", data: {} }, { at: new Date(Date.now() - 4 * 60_000) }));
    expect(res.status).toBe(200);
  });

  test("a signed body that is not a Clerk event is refused and not recorded", async () => {
    const t = newTest();
    expect((await post(t, signedRequest({ data: {} }))).status).toBe(400);
    const notJson = signedRequest(null, { body: "not json" });
    // Signed over the text itself, so only the JSON check can refuse it.
    const id = nextId();
    const at = new Date();
    notJson.headers = {
      "svix-id": id,
      "svix-timestamp": String(Math.floor(at.getTime() / 1000)),
      "svix-signature": new Webhook(SECRET).sign(id, at, "not json"),
    };
    const res = await post(t, notJson);
    expect(res).toEqual({ status: 400, body: { error: "The webhook body is not JSON." } });
    expect((await tables(t)).events).toEqual([]);
  });

  test("without CLERK_WEBHOOK_SECRET: 500 (Svix retries later), nothing recorded", async () => {
    vi.stubEnv("CLERK_WEBHOOK_SECRET", "");
    const t = newTest();
    const res = await post(t, signedRequest({ type: "user.created", data: {} }));
    expect(res.status).toBe(500);
    expect(res.body.error).toMatch(/CLERK_WEBHOOK_SECRET/);
    expect((await tables(t)).events).toEqual([]);
  });
});

describe("user.updated", () => {
  test("a new verified primary email updates the account's email, with an audit row", async () => {
    const t = newTest();
    const userId = await account(t, "user_ada", "ada@old.example");
    const res = await post(t, signedRequest(updated("user_ada", "Ada@New.Example"), { id: "msg_email" }));
    expect(res.body).toEqual({ received: true, outcome: "email_updated", replayed: false });
    const { users, audits } = await tables(t);
    expect(users.find((u) => u._id === userId)!.email).toBe("ada@new.example");
    expect(audits).toEqual([
      expect.objectContaining({
        actorLabel: "clerk",
        action: "account.email_changed",
        targetType: "user",
        targetId: userId,
        metadata: expect.objectContaining({ from: "ada@old.example", to: "ada@new.example", clerkEventId: "msg_email" }),
      }),
    ]);
  });

  test("the same svix-id delivered twice changes the account once", async () => {
    const t = newTest();
    await account(t, "user_rep", "rep@old.example");
    const init = signedRequest(updated("user_rep", "rep@new.example"), { id: "msg_replayed" });
    const first = await post(t, init);
    // A later edit by someone else must survive the replay of the first event.
    await t.run(async (ctx) => {
      const user = (await ctx.db.query("users").first())!;
      await ctx.db.patch("users", user._id, { email: "rep@support-fixed.example" });
    });
    const second = await post(t, init);
    expect(first.body).toEqual({ received: true, outcome: "email_updated", replayed: false });
    expect(second).toEqual({ status: 200, body: { received: true, outcome: "email_updated", replayed: true } });
    const { events, audits, users } = await tables(t);
    expect(events).toHaveLength(1);
    expect(audits).toHaveLength(1);
    expect(users[0].email).toBe("rep@support-fixed.example");
  });

  test("an update older than the last applied one does not undo it", async () => {
    const t = newTest();
    const userId = await account(t, "user_ooo", "ooo@one.example");
    const now = Date.now();
    await post(t, signedRequest(updated("user_ooo", "ooo@three.example", now)));
    const late = await post(t, signedRequest(updated("user_ooo", "ooo@two.example", now - 60_000)));
    expect(late.body.outcome).toBe("stale_update");
    expect((await tables(t)).users.find((u) => u._id === userId)!.email).toBe("ooo@three.example");
  });

  test("no account for that Clerk user, an unchanged or unverified email: recorded, nothing changes", async () => {
    const t = newTest();
    await account(t, "user_same", "same@example.com");
    expect((await post(t, signedRequest(updated("user_nobody", "x@example.com")))).body.outcome).toBe("no_account");
    expect((await post(t, signedRequest(updated("user_same", "SAME@example.com")))).body.outcome).toBe("email_unchanged");
    const unverified = updated("user_same", "other@example.com");
    unverified.data.email_addresses[0].verification.status = "unverified";
    expect((await post(t, signedRequest(unverified))).body.outcome).toBe("no_verified_primary_email");
    const { events, audits, users } = await tables(t);
    expect(events.map((e) => e.outcome)).toEqual(["no_account", "email_unchanged", "no_verified_primary_email"]);
    expect(audits).toEqual([]);
    expect(users[0].email).toBe("same@example.com");
  });

  test("an account of another issuer with the same subject is not touched", async () => {
    const t = newTest();
    vi.stubEnv("CLERK_JWT_ISSUER_DOMAIN", `${ISSUER}/`); // a trailing slash is tolerated
    const mine = await account(t, "user_iss", "iss@old.example");
    const other = await t.run(async (ctx) =>
      ctx.db.insert("users", {
        tokenIdentifier: "https://elsewhere.example|user_iss",
        email: "other@old.example",
        role: "user",
        state: "trial",
        plan: "trial",
        lastSeenAt: Date.now(),
      }),
    );
    await post(t, signedRequest(updated("user_iss", "iss@new.example")));
    const { users } = await tables(t);
    expect(users.find((u) => u._id === mine)!.email).toBe("iss@new.example");
    expect(users.find((u) => u._id === other)!.email).toBe("other@old.example");
  });
});

describe("user.deleted", () => {
  const deleted = (id: string) => ({ type: "user.deleted", object: "event", data: { id, object: "user", deleted: true } });

  test("records a deletion request for the account, with an audit row; the account stays", async () => {
    const t = newTest();
    const userId = await account(t, "user_del", "del@example.com");
    const res = await post(t, signedRequest(deleted("user_del"), { id: "msg_del" }));
    expect(res.body).toEqual({ received: true, outcome: "deletion_requested", replayed: false });
    const { deletions, audits, users, events } = await tables(t);
    expect(deletions).toEqual([
      expect.objectContaining({ userId, clerkUserId: "user_del", source: "clerk", status: "requested" }),
    ]);
    expect(audits).toEqual([
      expect.objectContaining({
        actorLabel: "clerk",
        action: "account.deletion_requested",
        targetType: "user",
        targetId: userId,
        metadata: expect.objectContaining({ clerkUserId: "user_del", clerkEventId: "msg_del" }),
      }),
    ]);
    expect(users).toHaveLength(1);
    expect(events).toEqual([expect.objectContaining({ eventId: "msg_del", type: "user.deleted", outcome: "deletion_requested" })]);
  });

  test("a Clerk user without an account still gets a request (no userId); a second event adds none", async () => {
    const t = newTest();
    expect((await post(t, signedRequest(deleted("user_ghost")))).body.outcome).toBe("deletion_requested");
    expect((await post(t, signedRequest(deleted("user_ghost")))).body.outcome).toBe("deletion_already_requested");
    const { deletions, audits } = await tables(t);
    expect(deletions).toHaveLength(1);
    expect(deletions[0].userId).toBeUndefined();
    expect(audits).toEqual([expect.objectContaining({ targetType: "clerkUser", targetId: "user_ghost" })]);
  });
});

describe("other events", () => {
  test("user.created and unknown types are recorded and acknowledged without changes", async () => {
    const t = newTest();
    await account(t, "user_c", "c@example.com");
    const created = await post(t, signedRequest({ type: "user.created", data: clerkUser("user_c", "new@example.com") }));
    const unknown = await post(t, signedRequest({ type: "organization.created", data: { id: "org_1" } }));
    expect(created).toEqual({ status: 200, body: { received: true, outcome: "ignored", replayed: false } });
    expect(unknown).toEqual({ status: 200, body: { received: true, outcome: "ignored", replayed: false } });
    const { events, audits, users, deletions } = await tables(t);
    expect(events.map((e) => [e.type, e.outcome])).toEqual([
      ["user.created", "ignored"],
      ["organization.created", "ignored"],
    ]);
    expect(audits).toEqual([]);
    expect(deletions).toEqual([]);
    expect(users[0].email).toBe("c@example.com");
  });

  test("a user event without a user id is recorded as malformed and acknowledged (a retry cannot fix it)", async () => {
    const t = newTest();
    const res = await post(t, signedRequest({ type: "user.deleted", data: {} }));
    expect(res.body).toEqual({ received: true, outcome: "malformed", replayed: false });
    expect((await tables(t)).deletions).toEqual([]);
  });
});
