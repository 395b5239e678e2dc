import { describe, expect, test } from "vitest";
import { planOverride } from "./planChange";

describe("support plan override", () => {
  test("granting basic to a trial account activates it", () => {
    expect(planOverride({ plan: "trial", state: "trial" }, "basic")).toEqual({
      plan: "basic",
      state: "active",
      event: "support_grant",
    });
  });

  test("moving a paying account between paid plans keeps its state", () => {
    expect(planOverride({ plan: "basic", state: "past_due" }, "pro")).toEqual({ plan: "pro", state: "past_due" });
  });

  test("a suspended account must be unsuspended first", () => {
    expect(planOverride({ plan: "basic", state: "suspended" }, "pro")).toEqual({
      error: "The account is suspended: unsuspend it before changing its plan.",
    });
  });

  test("an active account cannot be put back on the trial plan", () => {
    expect(planOverride({ plan: "pro", state: "active" }, "trial")).toHaveProperty("error");
  });

  test("a canceled customer can be comped back onto a paid plan", () => {
    expect(planOverride({ plan: "basic", state: "canceled" }, "basic")).toMatchObject({ state: "active" });
  });
});
