import { describe, expect, test } from "vitest";
import { calendarEventBody, calendarListQuery, describeIssues, inboxQuery, MAX_RECIPIENTS, sendEmailBody, sendSignalBody } from "./schemas";

const mail = { to: ["a@example.com"], subject: "Hi", text: "Hello" };

describe("sendEmailBody", () => {
  test.each([
    ["a minimal mail", mail, true],
    ["cc, bcc, html, reply-to", { ...mail, cc: ["b@example.com"], bcc: ["c@example.com"], html: "<p>x</p>", reply_to: "r@example.com" }, true],
    ["no recipient", { ...mail, to: [] }, false],
    ["a malformed address", { ...mail, to: ["not an address"] }, false],
    ["a header injection in the subject", { ...mail, subject: "Hi\r\nBcc: x@example.com" }, false],
    ["a subject longer than a header line", { ...mail, subject: "x".repeat(999) }, false],
    ["an unknown field", { ...mail, attachments: [] }, false],
    ["too many recipients in to, cc and bcc together", { ...mail, to: Array.from({ length: 60 }, (_, i) => `t${i}@example.com`), cc: Array.from({ length: 41 }, (_, i) => `c${i}@example.com`) }, false],
  ])("%s", (_name, body, ok) => {
    expect(sendEmailBody.safeParse(body).success).toBe(ok);
  });

  test("exactly the recipient limit passes", () => {
    const to = Array.from({ length: MAX_RECIPIENTS }, (_, i) => `t${i}@example.com`);
    expect(sendEmailBody.safeParse({ ...mail, to }).success).toBe(true);
  });
});

test("sendSignalBody: E.164 recipients, 1 to 20, a non-empty message up to 4000", () => {
  expect(sendSignalBody.safeParse({ recipients: ["+12025550100"], message: "x" }).success).toBe(true);
  expect(sendSignalBody.safeParse({ recipients: ["2025550100"], message: "x" }).success).toBe(false);
  expect(sendSignalBody.safeParse({ recipients: ["+12025550100"], message: "" }).success).toBe(false);
  expect(sendSignalBody.safeParse({ recipients: ["+12025550100"], message: "x".repeat(4001) }).success).toBe(false);
});

test("calendarEventBody: date-times with an offset or all-day dates, the end not before the start", () => {
  const at = (d: string) => ({ date_time: d });
  expect(calendarEventBody.safeParse({ summary: "s", start: at("2026-12-01T09:00:00Z"), end: at("2026-12-01T10:00:00+01:00") }).success).toBe(true);
  expect(calendarEventBody.safeParse({ summary: "s", start: { date: "2026-12-01" }, end: { date: "2026-12-01" } }).success).toBe(true);
  expect(calendarEventBody.safeParse({ summary: "s", start: at("2026-12-01T09:00:00"), end: at("2026-12-01T10:00:00Z") }).success).toBe(false);
  const backwards = calendarEventBody.safeParse({ summary: "s", start: at("2026-12-01T10:00:00Z"), end: at("2026-12-01T09:00:00Z") });
  expect(backwards.success).toBe(false);
  if (!backwards.success) expect(describeIssues(backwards.error)).toEqual({ message: "Invalid request: 'end': end must not be before start.", param: "end" });
});

test("queries coerce numbers from the URL and apply defaults; unknown parameters are refused", () => {
  expect(inboxQuery.parse({})).toEqual({ limit: 20 });
  expect(inboxQuery.parse({ limit: "5", cursor: "abc" })).toEqual({ limit: 5, cursor: "abc" });
  expect(inboxQuery.safeParse({ limit: "51" }).success).toBe(false);
  expect(inboxQuery.safeParse({ page: "2" }).success).toBe(false);
  expect(calendarListQuery.parse({ time_min: "2026-12-01T00:00:00Z" })).toEqual({ time_min: "2026-12-01T00:00:00Z", limit: 50 });
});
