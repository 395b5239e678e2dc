// Google Workspace through a service account with domain-wide delegation, and captured mail.
import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseRfc2822 } from "./mailbox.ts";
import { startSimulator, type RunningSimulator } from "./server.ts";

const SCOPES = "https://www.googleapis.com/auth/admin.directory.user https://mail.google.com/ https://www.googleapis.com/auth/calendar";
let sim: RunningSimulator;
let account: { client_email: string; private_key: string };

beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
  account = await fetch(`${sim.url}/_sim/google/service-account`, { method: "POST" }).then((r) => r.json());
});

afterAll(async () => {
  await sim.close();
});

beforeEach(() => {
  sim.reset();
});

function assertion(claims: Record<string, unknown>, privateKey: string = account.private_key): string {
  const now = Math.floor(Date.now() / 1000);
  const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");
  const input = `${encode({ alg: "RS256", typ: "JWT" })}.${encode({ iss: account.client_email, aud: "https://oauth2.googleapis.com/token", iat: now, exp: now + 3600, scope: SCOPES, ...claims })}`;
  return `${input}.${sign("RSA-SHA256", Buffer.from(input), privateKey).toString("base64url")}`;
}

async function token(claims: Record<string, unknown> = {}, privateKey?: string) {
  const response = await fetch(`${sim.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion: assertion(claims, privateKey) }),
  });
  return { status: response.status, json: await response.json() };
}

async function api(accessToken: string, method: string, path: string, body?: unknown) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${accessToken}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : null };
}

async function adminToken(): Promise<string> {
  const { json } = await token({ sub: "admin@dex.test" });
  return json.access_token;
}

async function createUser(admin: string, email: string) {
  return api(admin, "POST", "/admin/directory/v1/users", { primaryEmail: email, name: { givenName: "Ada", familyName: "Lovelace" }, password: "correct horse battery" });
}

function rawMail(lines: string[]): string {
  return Buffer.from(lines.join("\r\n")).toString("base64url");
}

describe("google token endpoint", () => {
  it("exchanges a signed assertion for a bearer token", async () => {
    const { status, json } = await token({ sub: "admin@dex.test" });
    expect(status).toBe(200);
    expect(json).toMatchObject({ token_type: "Bearer", expires_in: 3599, access_token: expect.stringMatching(/^ya29\./) });
  });

  it("refuses a bad signature, a wrong audience and an over-long lifetime with invalid_grant", async () => {
    const other = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "pem", type: "pkcs8" }) as string;
    await expect(token({}, other)).resolves.toEqual({ status: 400, json: { error: "invalid_grant", error_description: "Invalid JWT Signature." } });
    await expect(token({ aud: "https://example.com" })).resolves.toMatchObject({ status: 400, json: { error: "invalid_grant" } });
    const now = Math.floor(Date.now() / 1000);
    await expect(token({ iat: now, exp: now + 7200 })).resolves.toMatchObject({ status: 400, json: { error: "invalid_grant" } });
  });
});

describe("directory", () => {
  it("creates, reads, suspends, lists and deletes users", async () => {
    const admin = await adminToken();
    const created = await createUser(admin, "Ada@Dex.test");
    expect(created.json).toMatchObject({ kind: "admin#directory#user", primaryEmail: "ada@dex.test", suspended: false, name: { fullName: "Ada Lovelace" } });
    expect(created.json).not.toHaveProperty("_password");
    const duplicate = await createUser(admin, "ada@dex.test");
    expect(duplicate.status).toBe(409);
    expect(duplicate.json.error).toMatchObject({ code: 409, message: "Entity already exists.", errors: [{ reason: "duplicate" }] });

    await expect(api(admin, "PUT", "/admin/directory/v1/users/ada@dex.test", { suspended: true })).resolves.toMatchObject({ json: { suspended: true } });
    await expect(api(admin, "GET", `/admin/directory/v1/users/${created.json.id}`)).resolves.toMatchObject({ json: { suspended: true } });
    await expect(api(admin, "GET", "/admin/directory/v1/users?domain=dex.test")).resolves.toMatchObject({ json: { users: [{ primaryEmail: "ada@dex.test" }] } });
    expect((await api(admin, "DELETE", "/admin/directory/v1/users/ada@dex.test")).status).toBe(204);
    const gone = await api(admin, "GET", "/admin/directory/v1/users/ada@dex.test");
    expect(gone.status).toBe(404);
    expect(gone.json.error.status).toBe("NOT_FOUND");
  });

  it("answers 401 for an unknown token and 403 for a token without the scope", async () => {
    expect((await api("ya29.nope", "GET", "/admin/directory/v1/users")).status).toBe(401);
    const { json } = await token({ scope: "https://www.googleapis.com/auth/calendar" });
    const forbidden = await api(json.access_token, "GET", "/admin/directory/v1/users");
    expect(forbidden.status).toBe(403);
    expect(forbidden.json.error.message).toContain("insufficient authentication scopes");
  });
});

describe("gmail and captured mail", () => {
  it("sends as the impersonated user, delivers to Directory recipients and captures everything", async () => {
    const admin = await adminToken();
    await createUser(admin, "ada@dex.test");
    await createUser(admin, "bob@dex.test");
    const ada = (await token({ sub: "ada@dex.test" })).json.access_token;
    const sent = await api(ada, "POST", "/gmail/v1/users/me/messages/send", {
      raw: rawMail(["From: Ada <ada@dex.test>", "To: bob@dex.test, carol@example.com", "Subject: Lunch?", "Content-Type: text/plain; charset=utf-8", "", "Noon at the usual place."]),
    });
    expect(sent.json).toMatchObject({ id: expect.any(String), labelIds: ["SENT"] });

    const bob = (await token({ sub: "bob@dex.test" })).json.access_token;
    const listed = await api(bob, "GET", "/gmail/v1/users/me/messages?q=subject:lunch is:unread");
    expect(listed.json.resultSizeEstimate).toBe(1);
    const message = await api(bob, "GET", `/gmail/v1/users/me/messages/${listed.json.messages[0].id}?format=full`);
    expect(message.json.payload.headers).toContainEqual({ name: "Subject", value: "Lunch?" });
    expect(Buffer.from(message.json.payload.body.data, "base64url").toString()).toBe("Noon at the usual place.");
    await expect(api(bob, "GET", "/gmail/v1/users/me/messages?q=from:nobody")).resolves.toMatchObject({ json: { resultSizeEstimate: 0 } });
    // Marking it read takes it out of is:unread.
    const read = await api(bob, "POST", `/gmail/v1/users/me/messages/${listed.json.messages[0].id}/modify`, { removeLabelIds: ["UNREAD"] });
    expect(read.json.labelIds).toEqual(["INBOX"]);
    await expect(api(bob, "GET", "/gmail/v1/users/me/messages?q=is:unread")).resolves.toMatchObject({ json: { resultSizeEstimate: 0 } });
    // Reading someone else's mailbox needs a token impersonating them.
    expect((await api(bob, "GET", "/gmail/v1/users/ada@dex.test/messages")).status).toBe(403);

    const captured = await fetch(`${sim.url}/_sim/inbox.json?to=carol@example.com`).then((r) => r.json());
    expect(captured.messages).toEqual([expect.objectContaining({ via: "gmail", subject: "Lunch?", to: ["bob@dex.test", "carol@example.com"], text: "Noon at the usual place." })]);
    await expect(fetch(`${sim.url}/_sim/inbox`).then((r) => r.text())).resolves.toContain("Lunch?");
  });

  it("puts mail from outside into a user's inbox", async () => {
    const admin = await adminToken();
    await createUser(admin, "ada@dex.test");
    const delivered = await fetch(`${sim.url}/_sim/google/gmail/deliver`, { method: "POST", body: JSON.stringify({ from: "x@example.com", to: "ada@dex.test", subject: "Invoice", text: "Attached." }) });
    expect(delivered.status).toBe(200);
    const ada = (await token({ sub: "ada@dex.test" })).json.access_token;
    await expect(api(ada, "GET", "/gmail/v1/users/me/messages?q=in:inbox from:x@example.com")).resolves.toMatchObject({ json: { resultSizeEstimate: 1 } });
  });

  it("parses multipart and quoted-printable bodies", () => {
    const raw = [
      "From: a@x.test",
      'Content-Type: multipart/alternative; boundary="b1"',
      "",
      "--b1",
      "Content-Type: text/plain; charset=utf-8",
      "Content-Transfer-Encoding: quoted-printable",
      "",
      "caf=C3=A9 =",
      "ok",
      "--b1",
      "Content-Type: text/html",
      "",
      "<p>cafe</p>",
      "--b1--",
    ].join("\r\n");
    const parsed = parseRfc2822(raw);
    expect(parsed.text).toBe("café ok");
    expect(parsed.html).toBe("<p>cafe</p>");
  });

  it("captures mail sent through the transactional email API and validates it", async () => {
    const ok = await fetch(`${sim.url}/emails`, {
      method: "POST",
      headers: { authorization: "Bearer re_sim", "content-type": "application/json" },
      body: JSON.stringify({ from: "Poindexter <hello@poindexter.dev>", to: "new@example.com", subject: "Welcome", html: "<p>Hi!</p>" }),
    });
    expect(ok.status).toBe(200);
    const { id } = (await ok.json()) as { id: string };
    const fetched = await fetch(`${sim.url}/emails/${id}`, { headers: { authorization: "Bearer re_sim" } }).then((r) => r.json());
    expect(fetched).toMatchObject({ object: "email", id, subject: "Welcome", to: ["new@example.com"], last_event: "delivered" });
    const invalid = await fetch(`${sim.url}/emails`, { method: "POST", headers: { authorization: "Bearer re_sim" }, body: JSON.stringify({ from: "a@b.test", to: "c@d.test" }) });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ statusCode: 422, name: "validation_error" });
    const captured = await fetch(`${sim.url}/_sim/inbox.json?to=new@example.com`).then((r) => r.json());
    expect(captured.messages).toEqual([expect.objectContaining({ via: "email-api", subject: "Welcome", text: "Hi!" })]);
  });

  it("sends once per Idempotency-Key and keeps the mail's custom headers", async () => {
    const body = JSON.stringify({
      from: "hello@poindexter.dev",
      to: ["tips@example.com"],
      subject: "Tip",
      text: "Hi",
      headers: { "List-Unsubscribe": "<https://x.test/u?token=t>" },
    });
    const send = (payload: string) =>
      fetch(`${sim.url}/emails`, {
        method: "POST",
        headers: { authorization: "Bearer re_sim", "content-type": "application/json", "idempotency-key": "row-1" },
        body: payload,
      });
    const first = (await (await send(body)).json()) as { id: string };
    const again = await send(body);
    expect(again.status).toBe(200);
    expect(await again.json()).toEqual({ id: first.id });
    const changed = await send(body.replace("Hi", "Hello"));
    expect(changed.status).toBe(409);
    expect(await changed.json()).toMatchObject({ name: "invalid_idempotent_request" });
    const captured = await fetch(`${sim.url}/_sim/inbox.json?to=tips@example.com`).then((r) => r.json());
    expect(captured.messages).toHaveLength(1);
    expect(captured.messages[0].headers).toEqual({ "List-Unsubscribe": "<https://x.test/u?token=t>" });
  });
});

describe("calendar", () => {
  it("creates events and lists them in a time window", async () => {
    const ada = (await token({ sub: "ada@dex.test" })).json.access_token;
    const created = await api(ada, "POST", "/calendar/v3/calendars/primary/events", {
      summary: "Standup",
      start: { dateTime: "2026-12-01T09:00:00Z" },
      end: { dateTime: "2026-12-01T09:15:00Z" },
    });
    expect(created.json).toMatchObject({ kind: "calendar#event", status: "confirmed", summary: "Standup", organizer: { email: "ada@dex.test" } });
    await api(ada, "POST", "/calendar/v3/calendars/primary/events", { summary: "Later", start: { date: "2027-01-05" }, end: { date: "2027-01-06" } });
    const listed = await api(ada, "GET", "/calendar/v3/calendars/primary/events?timeMin=2026-11-30T00:00:00Z&timeMax=2026-12-31T00:00:00Z");
    expect(listed.json.items.map((e: { summary: string }) => e.summary)).toEqual(["Standup"]);
    expect((await api(ada, "DELETE", `/calendar/v3/calendars/primary/events/${created.json.id}`)).status).toBe(204);
    await expect(api(ada, "GET", "/calendar/v3/calendars/primary/events?timeMax=2026-12-31T00:00:00Z")).resolves.toMatchObject({ json: { items: [] } });
    const bad = await api(ada, "POST", "/calendar/v3/calendars/primary/events", { summary: "x", start: { dateTime: "2026-12-01T10:00:00Z" }, end: { dateTime: "2026-12-01T09:00:00Z" } });
    expect(bad.status).toBe(400);
  });
});
