import { describe, expect, test } from "vitest";
import {
  clerkTokenIdentifier,
  eventTypeOf,
  isStaleUpdate,
  parseClerkEvent,
  primaryEmailOf,
  standardHeadersFromSvix,
} from "./webhook";

const verified = { status: "verified", strategy: "email_code" };

function user(over: Record<string, unknown> = {}) {
  return {
    id: "user_2abc",
    object: "user",
    primary_email_address_id: "idn_primary",
    email_addresses: [
      { id: "idn_other", object: "email_address", email_address: "old@example.com", verification: verified },
      { id: "idn_primary", object: "email_address", email_address: "  New@Example.COM ", verification: verified },
    ],
    updated_at: 1_760_000_000_000,
    ...over,
  };
}

describe("standardHeadersFromSvix", () => {
  const svix = { "svix-id": "msg_1", "svix-timestamp": "1760000000", "svix-signature": "v1,abc" } as Record<string, string>;

  test("maps Svix's names to the Standard Webhooks ones", () => {
    expect(standardHeadersFromSvix((n) => svix[n] ?? null)).toEqual({
      "webhook-id": "msg_1",
      "webhook-timestamp": "1760000000",
      "webhook-signature": "v1,abc",
    });
  });

  test("null when any of the three is missing or blank", () => {
    for (const name of Object.keys(svix)) {
      expect(standardHeadersFromSvix((n) => (n === name ? null : svix[n]))).toBeNull();
      expect(standardHeadersFromSvix((n) => (n === name ? "  " : svix[n]))).toBeNull();
    }
  });
});

describe("primaryEmailOf", () => {
  test("the verified primary address, normalized, not the first one listed", () => {
    expect(primaryEmailOf(user())).toBe("new@example.com");
  });

  test("null when the primary address is unverified, absent, or not an address", () => {
    const unverified = user({
      email_addresses: [{ id: "idn_primary", email_address: "new@example.com", verification: { status: "unverified" } }],
    });
    expect(primaryEmailOf(unverified)).toBeNull();
    const noVerification = user({ email_addresses: [{ id: "idn_primary", email_address: "new@example.com", verification: null }] });
    expect(primaryEmailOf(noVerification)).toBeNull();
    expect(primaryEmailOf(user({ primary_email_address_id: null }))).toBeNull();
    expect(primaryEmailOf(user({ primary_email_address_id: "idn_gone" }))).toBeNull();
    expect(primaryEmailOf(user({ email_addresses: "nope" }))).toBeNull();
    const junk = user({ email_addresses: [{ id: "idn_primary", email_address: "not an email", verification: verified }] });
    expect(primaryEmailOf(junk)).toBeNull();
  });
});

describe("parseClerkEvent", () => {
  test("user.updated: the user id, the primary email and Clerk's updated_at", () => {
    expect(parseClerkEvent({ type: "user.updated", object: "event", data: user() })).toEqual({
      kind: "user.updated",
      clerkUserId: "user_2abc",
      primaryEmail: "new@example.com",
      updatedAt: 1_760_000_000_000,
    });
    expect(parseClerkEvent({ type: "user.updated", data: user({ updated_at: undefined }) })).toMatchObject({ updatedAt: null });
  });

  test("user.deleted: the user id only (Clerk sends {id, object, deleted})", () => {
    expect(parseClerkEvent({ type: "user.deleted", data: { id: "user_2abc", object: "user", deleted: true } })).toEqual({
      kind: "user.deleted",
      clerkUserId: "user_2abc",
    });
  });

  test("user.created and unknown types change nothing", () => {
    expect(parseClerkEvent({ type: "user.created", data: user() })).toEqual({ kind: "other" });
    expect(parseClerkEvent({ type: "session.created", data: {} })).toEqual({ kind: "other" });
  });

  test("a user event without a user id is malformed", () => {
    expect(parseClerkEvent({ type: "user.deleted", data: {} })).toMatchObject({ kind: "malformed" });
    expect(parseClerkEvent({ type: "user.updated" })).toMatchObject({ kind: "malformed" });
    expect(parseClerkEvent([])).toMatchObject({ kind: "malformed" });
  });
});

test("eventTypeOf: the type of a Clerk event, null for anything else", () => {
  expect(eventTypeOf({ type: "user.created" })).toBe("user.created");
  expect(eventTypeOf({ type: "" })).toBeNull();
  expect(eventTypeOf({ data: {} })).toBeNull();
  expect(eventTypeOf("user.created")).toBeNull();
  expect(eventTypeOf(null)).toBeNull();
});

test("clerkTokenIdentifier: issuer|subject, as Convex builds it, without a trailing slash", () => {
  expect(clerkTokenIdentifier("https://app.clerk.accounts.dev", "user_1")).toBe("https://app.clerk.accounts.dev|user_1");
  expect(clerkTokenIdentifier("https://app.clerk.accounts.dev/ ", "user_1")).toBe("https://app.clerk.accounts.dev|user_1");
});

test("isStaleUpdate: only an update older than the last applied one", () => {
  expect(isStaleUpdate(1, 2)).toBe(true);
  expect(isStaleUpdate(2, 2)).toBe(false);
  expect(isStaleUpdate(3, 2)).toBe(false);
  expect(isStaleUpdate(null, 2)).toBe(false);
  expect(isStaleUpdate(1, null)).toBe(false);
});
