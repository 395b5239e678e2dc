import { beforeAll, describe, expect, test } from "vitest";
import { bodiesOf, decodeBase64url, headersOf, rawMessage } from "./mime";

type Parse = (raw: string) => { headers: Record<string, string>; text: string; html: string | null };
// The simulator's mail parser reads the message back. Not a static import: the simulator is Node
// code for the root tsconfig.
const MAILBOX_MODULE = "../../../dev/simulator/mailbox.ts";
let parseRfc2822: Parse;
beforeAll(async () => {
  ({ parseRfc2822 } = (await import(/* @vite-ignore */ MAILBOX_MODULE)) as { parseRfc2822: Parse });
});

const base = { from: "dex-a@dex.test", to: ["b@example.com"], subject: "Hello", text: "Plain", date: new Date("2026-11-29T12:00:00Z"), boundary: "XYZ" };

describe("rawMessage", () => {
  test("a plain mail: headers, base64 body; a mail parser reads it back", () => {
    const raw = decodeBase64url(rawMessage({ ...base, cc: ["c@example.com"], replyTo: "r@example.com", inReplyTo: "<m1@example.com>" }));
    expect(raw).toContain("\r\nCc: c@example.com\r\n");
    expect(raw).toContain("\r\nIn-Reply-To: <m1@example.com>\r\nReferences: <m1@example.com>\r\n");
    const parsed = parseRfc2822(raw);
    expect(parsed).toMatchObject({ headers: { from: "dex-a@dex.test", to: "b@example.com", subject: "Hello", "reply-to": "r@example.com" }, text: "Plain", html: null });
  });

  test("with HTML: multipart/alternative with both parts; a non-ASCII subject as an encoded word", () => {
    const raw = decodeBase64url(rawMessage({ ...base, subject: "Grüße", text: "Straße", html: "<p>Straße</p>" }));
    expect(raw).toContain('Content-Type: multipart/alternative; boundary="XYZ"');
    expect(raw).toContain(`Subject: =?UTF-8?B?${btoa(String.fromCharCode(...new TextEncoder().encode("Grüße")))}?=`);
    expect(parseRfc2822(raw)).toMatchObject({ text: "Straße", html: "<p>Straße</p>" });
  });

  test("bcc is a header Gmail strips; no header line carries a bare newline", () => {
    const raw = decodeBase64url(rawMessage({ ...base, bcc: ["hidden@example.com"] }));
    const head = raw.slice(0, raw.indexOf("\r\n\r\n"));
    expect(head).toContain("Bcc: hidden@example.com");
    expect(head.split("\r\n").every((line) => !line.includes("\n"))).toBe(true);
  });
});

test("bodiesOf and headersOf read a Gmail format=full payload, nested parts first text then html", () => {
  const b64 = (s: string) => btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  const payload = {
    mimeType: "multipart/mixed",
    headers: [{ name: "Subject", value: "S" }, { name: "From", value: "f@example.com" }],
    parts: [{ mimeType: "multipart/alternative", parts: [{ mimeType: "text/plain", body: { data: b64("plain") } }, { mimeType: "text/html", body: { data: b64("<b>html</b>") } }] }],
  };
  expect(headersOf(payload)).toEqual({ subject: "S", from: "f@example.com" });
  expect(bodiesOf(payload)).toEqual({ text: "plain", html: "<b>html</b>" });
  expect(bodiesOf({ mimeType: "text/html", body: { data: b64("<i>only</i>") } })).toEqual({ text: "only", html: "<i>only</i>" });
});
