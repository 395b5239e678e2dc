import { describe, expect, it } from "vitest";
import { disposableEmailBlocklist } from "disposable-email-domains-js";
import MailChecker from "mailchecker";
import { isDisposableAddress } from "./disposable";
import { canonicalMailbox, domainAndParents } from "./emailIdentity";

// A domain only the second list has: the reason both lists are used.
const onlyInSecond = disposableEmailBlocklist().find((d) => MailChecker.isValid(`x@${d}`))!;

describe("disposable addresses", () => {
  it("are refused from either list, in any case and on any subdomain", () => {
    expect(isDisposableAddress("someone@mailinator.com")).toBe(true);
    expect(isDisposableAddress("Someone@MAILINATOR.COM")).toBe(true);
    expect(isDisposableAddress("someone@mx.eu.mailinator.com")).toBe(true);
    expect(onlyInSecond).toBeDefined();
    expect(isDisposableAddress(`someone@${onlyInSecond}`)).toBe(true);
    expect(isDisposableAddress(`someone@Deep.Sub.${onlyInSecond.toUpperCase()}`)).toBe(true);
  });

  it("let ordinary providers and company domains through", () => {
    for (const email of ["ada@gmail.com", "ada@example.com", "ops@poindexter.dev", "x@mail.proton.me"]) {
      expect(isDisposableAddress(email), email).toBe(false);
    }
  });
});

describe("canonical mailboxes", () => {
  it("fold Gmail's dots, +tags and googlemail.com into one mailbox", () => {
    expect(canonicalMailbox(" Ada.Love.Lace+dex@Gmail.com ")).toBe("adalovelace@gmail.com");
    expect(canonicalMailbox("adalovelace@googlemail.com")).toBe("adalovelace@gmail.com");
    expect(canonicalMailbox("a.da+x+y@gmail.com")).toBe("ada@gmail.com");
  });

  it("leave other hosts as typed, lower-cased", () => {
    expect(canonicalMailbox("Ada.Lovelace+dex@Example.com")).toBe("ada.lovelace+dex@example.com");
  });

  it("refuse what is not an address", () => {
    expect(canonicalMailbox("not-an-email")).toBeNull();
    expect(canonicalMailbox("+tag@gmail.com")).toBeNull();
  });

  it("list a domain and its parents down to two labels", () => {
    expect(domainAndParents("a.b.example.com")).toEqual(["a.b.example.com", "b.example.com", "example.com"]);
    expect(domainAndParents("example.com")).toEqual(["example.com"]);
  });
});
