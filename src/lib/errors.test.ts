import { describe, expect, it } from "vitest";
import { ConvexError } from "convex/values";
import { describeError } from "./errors";
import { STATE_INFO, stateInfo } from "./accountState";

describe("describeError", () => {
  it("shows a ConvexError's data.message and keeps its code", () => {
    const err = new ConvexError({ code: "FORBIDDEN", message: "You cannot suspend your own account." });
    expect(describeError(err)).toEqual({ code: "FORBIDDEN", message: "You cannot suspend your own account." });
  });

  it("strips the client's request wrapper from unexpected server errors", () => {
    const err = new Error(
      "[CONVEX Q(admin/accounts:get)] [Request ID: abc123] Server Error\nUncaught Error: Account row is corrupt\n    at handler (../convex/admin/accounts.ts:10:3)",
    );
    expect(describeError(err).message).toBe("Account row is corrupt");
  });

  it("does not show a bare 'Server Error' to people", () => {
    expect(describeError(new Error("[CONVEX M(x:y)] [Request ID: 1] Server Error")).message).toMatch(/Try again/);
  });
});

describe("account state wording", () => {
  it("explains past_due as a grace period in which service continues", () => {
    expect(STATE_INFO.past_due.explanation).toMatch(/payment failed; service continues during the grace period/);
  });

  it("has a customer and a staff sentence for every state, and a fallback for unknown ones", () => {
    for (const info of Object.values(STATE_INFO)) {
      expect(info.explanation.length).toBeGreaterThan(20);
      expect(info.staffNote.length).toBeGreaterThan(20);
    }
    expect(stateInfo("frozen").label).toBe("frozen");
  });
});
