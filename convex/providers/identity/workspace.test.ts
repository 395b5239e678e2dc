// The Dex API's adapters over real HTTP against the provider simulator: Gmail (send, inbox pages,
// get, trash) and Calendar (list, insert, update, delete) as the mailbox user; Signal send and
// contacts; each failure through the one classification.
import { beforeEach, describe, expect, test } from "vitest";
import { decodeBase64url } from "../../model/dexApi/mime";
import * as google from "./google";
import * as signal from "./signal";
import { useAdapterSimulator } from "./simulator.setup";
import { RetryableProviderError } from "./types";
import * as workspace from "./workspace";

const simulator = useAdapterSimulator();

const simJson = async <T>(path: string, init?: RequestInit): Promise<T> => (await (await fetch(`${simulator().url}${path}`, init)).json()) as T;
const MAILBOX = "dex-mail@dex.test";
const mail = (over: Partial<Parameters<typeof workspace.sendMail>[2]> = {}) => ({
  to: ["friend@example.com"],
  subject: "Grüße aus Berlin",
  text: "Bis bald.",
  date: new Date("2026-11-29T12:00:00Z"),
  boundary: "b0undary",
  ...over,
});

describe("gmail and calendar as the mailbox user", () => {
  let config: google.GoogleConfig;
  beforeEach(async () => {
    const key = await simJson<{ client_email: string; private_key: string }>("/_sim/google/service-account", { method: "POST" });
    config = { serviceAccountEmail: key.client_email, privateKey: key.private_key, adminEmail: "admin@dex.test", baseUrl: simulator().url };
    await google.ensureUser(config, { primaryEmail: MAILBOX, givenName: "Dex", familyName: "Mail", password: "s3cret-Pa55word" });
  });

  test("sends from the mailbox: the captured mail has the sender, an encoded subject and both bodies", async () => {
    const sent = await workspace.sendMail(config, MAILBOX, mail({ html: "<p>Bis <b>bald</b>.</p>", cc: [MAILBOX] }));
    expect(sent).toMatchObject({ kind: "ok", value: { id: expect.any(String) } });
    const captured = await simJson<{ messages: { from: string; to: string[]; text: string; html: string | null; headers: Record<string, string> }[] }>("/_sim/inbox.json?to=friend@example.com");
    expect(captured.messages).toHaveLength(1);
    expect(captured.messages[0]).toMatchObject({ from: MAILBOX, to: ["friend@example.com"], text: "Bis bald.", html: "<p>Bis <b>bald</b>.</p>" });
    expect(captured.messages[0].headers.subject).toMatch(/^=\?UTF-8\?B\?/);
  });

  test("pages the inbox newest first, opens a message, trashes it; unknown ids are null/false", async () => {
    for (const n of [1, 2, 3]) {
      await fetch(`${simulator().url}/_sim/google/gmail/deliver`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ from: "a@example.org", to: MAILBOX, subject: `N${n}`, text: `body ${n}` }) });
    }
    const first = await workspace.listInbox(config, MAILBOX, { limit: 2 });
    if (first.kind !== "ok") throw new Error(first.kind);
    expect(first.value.messages.map((m) => m.subject)).toEqual(["N3", "N2"]);
    expect(first.value.nextPageToken).not.toBeNull();
    const second = await workspace.listInbox(config, MAILBOX, { limit: 2, pageToken: first.value.nextPageToken! });
    if (second.kind !== "ok") throw new Error(second.kind);
    expect(second.value.messages.map((m) => m.subject)).toEqual(["N1"]);
    expect(second.value.nextPageToken).toBeNull();

    const id = first.value.messages[0].id;
    expect(await workspace.getMail(config, MAILBOX, id)).toMatchObject({ kind: "ok", value: { id, subject: "N3", from: "a@example.org", text: "body 3", labels: expect.arrayContaining(["INBOX"]) } });
    expect(await workspace.trashMail(config, MAILBOX, id)).toEqual({ kind: "ok", value: true });
    const after = await workspace.listInbox(config, MAILBOX, { limit: 10 });
    expect(after.kind === "ok" && after.value.messages.map((m) => m.subject)).toEqual(["N2", "N1"]);
    expect(await workspace.getMail(config, MAILBOX, "nosuch")).toEqual({ kind: "ok", value: null });
    expect(await workspace.trashMail(config, MAILBOX, "nosuch")).toEqual({ kind: "ok", value: false });
  });

  test("a mailbox that does not exist yet throws (retry later); Google's 5xx throws; a 400 is permanent", async () => {
    await expect(workspace.listInbox(config, "nobody@dex.test", { limit: 5 })).rejects.toThrow(/Mail service not enabled/);
    simulator().configure({ fail: { count: 1, status: 503, pathPrefix: "/gmail/v1/users/me/messages/send" } });
    await expect(workspace.sendMail(config, MAILBOX, mail())).rejects.toBeInstanceOf(RetryableProviderError);
    simulator().configure({ fail: { count: 1, status: 400, pathPrefix: "/gmail/v1/users/me/messages/send", message: "Invalid To header" } });
    expect(await workspace.sendMail(config, MAILBOX, mail())).toMatchObject({ kind: "permanent", status: 400 });
  });

  test("inserts, lists by time, replaces and deletes events of the primary calendar", async () => {
    const created = await workspace.insertEvent(config, MAILBOX, { summary: "Standup", start: { dateTime: "2026-12-01T09:00:00Z" }, end: { dateTime: "2026-12-01T09:15:00Z" } });
    if (created.kind !== "ok") throw new Error(created.kind);
    const id = created.value.id;
    await workspace.insertEvent(config, MAILBOX, { summary: "Holiday", start: { date: "2026-12-24" }, end: { date: "2026-12-25" } });
    const december = await workspace.listEvents(config, MAILBOX, { timeMin: "2026-12-01T00:00:00Z", timeMax: "2026-12-02T00:00:00Z", limit: 10 });
    expect(december.kind === "ok" && december.value.events.map((e) => e.summary)).toEqual(["Standup"]);
    const page = await workspace.listEvents(config, MAILBOX, { limit: 1 });
    expect(page.kind === "ok" && page.value.nextPageToken).toBe("1");
    expect(await workspace.updateEvent(config, MAILBOX, id, { summary: "Standup (late)", start: { dateTime: "2026-12-01T10:00:00Z" }, end: { dateTime: "2026-12-01T10:15:00Z" } })).toMatchObject({
      kind: "ok",
      value: { id, summary: "Standup (late)", start: { dateTime: "2026-12-01T10:00:00Z" } },
    });
    expect(await workspace.deleteEvent(config, MAILBOX, id)).toEqual({ kind: "ok", value: true });
    expect(await workspace.deleteEvent(config, MAILBOX, id)).toEqual({ kind: "ok", value: false });
    expect(await workspace.updateEvent(config, MAILBOX, id, { summary: "x", start: { date: "2026-12-01" }, end: { date: "2026-12-01" } })).toEqual({ kind: "ok", value: null });
  });
});

describe("signal send and contacts", () => {
  const config = (): signal.SignalConfig => ({ baseUrl: simulator().url });
  const registered = async (phone: string) => {
    await signal.register(config(), phone);
    const code = (await simJson<{ accounts: { number: string; code: string }[] }>("/_sim/signal")).accounts.find((a) => a.number === phone)!.code;
    await signal.verify(config(), phone, code);
  };

  test("sends to recipients (a registered one receives it) and lists who the account talked to", async () => {
    await registered("+12015550161");
    await registered("+12015550162");
    const sent = await signal.send(config(), "+12015550161", ["+12015550162", "+12015550163"], "hello");
    expect(sent).toMatchObject({ kind: "ok", value: { timestamp: expect.any(Number) } });
    expect(await signal.receive(config(), "+12015550162")).toMatchObject({ kind: "ok", value: [{ source: "+12015550161", message: "hello" }] });
    const contacts = await signal.listContacts(config(), "+12015550161");
    expect(contacts.kind === "ok" && contacts.value.map((c) => c.number)).toEqual(["+12015550162", "+12015550163"]);
  });

  test("an unregistered sender is a permanent refusal; signal-cli's 5xx throws", async () => {
    expect(await signal.send(config(), "+12015550169", ["+12015550162"], "x")).toMatchObject({ kind: "permanent", code: "not_registered" });
    expect(await signal.listContacts(config(), "+12015550169")).toMatchObject({ kind: "permanent", code: "not_registered" });
    await registered("+12015550161");
    simulator().configure({ fail: { count: 1, status: 503, pathPrefix: "/v2/send" } });
    await expect(signal.send(config(), "+12015550161", ["+12015550162"], "x")).rejects.toBeInstanceOf(RetryableProviderError);
  });
});

test("decodeBase64url reads what Gmail returns", () => {
  expect(decodeBase64url("R3LDvMOfZQ")).toBe("Grüße");
});
