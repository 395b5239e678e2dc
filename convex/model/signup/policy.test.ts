import { describe, expect, it } from "vitest";
import { checkSignupEmail, SIGNUP_REFUSAL_MESSAGES } from "./policy";

describe("checking a signup's address", () => {
  it("accepts a real address, stores it lower-cased and counts it by mailbox", () => {
    expect(checkSignupEmail(" Ada.Lovelace+dex@GMAIL.com ")).toEqual({
      ok: true,
      email: "ada.lovelace+dex@gmail.com",
      mailbox: "adalovelace@gmail.com",
    });
  });

  it("refuses throwaway domains, subdomains and mixed case included", () => {
    for (const email of ["x@mailinator.com", "x@MailInator.COM", "x@eu.mailinator.com"]) {
      expect(checkSignupEmail(email)).toMatchObject({ ok: false, reason: "disposable_email" });
    }
    expect(SIGNUP_REFUSAL_MESSAGES.disposable_email).toBe("Disposable email addresses can't be used; use your own address.");
  });

  it("refuses what is not an address", () => {
    expect(checkSignupEmail("")).toMatchObject({ ok: false, reason: "invalid_email" });
    expect(checkSignupEmail("ada@")).toMatchObject({ ok: false, reason: "invalid_email" });
  });
});
