import { describe, expect, it } from "vitest";
import { approvesOnReturn, checkoutReturnOf, connectParamsOf, pathAfterOnboarding } from "./connectRequest";

describe("the connect request in the URL", () => {
  it("keeps only the authorization parameters", () => {
    const search = new URLSearchParams("client_id=dex-abcd&state=s&checkout=success&extra=1&scope=ai%20usage");
    expect(connectParamsOf(search)).toEqual({ client_id: "dex-abcd", state: "s", scope: "ai usage" });
    expect(checkoutReturnOf(search)).toBe("success");
    expect(checkoutReturnOf(new URLSearchParams("checkout=maybe"))).toBeNull();
  });

  it("approves on return only within two hours of going to checkout", () => {
    expect(approvesOnReturn(null, 10)).toBe(false);
    expect(approvesOnReturn(1_000, 1_000 + 60_000)).toBe(true);
    expect(approvesOnReturn(1_000, 1_000 + 2 * 3600_000)).toBe(false);
  });

  it("sends a new account back to its connect request after onboarding", () => {
    expect(pathAfterOnboarding({ pathname: "/connect", search: "?client_id=dex-abcd" })).toBe("/connect?client_id=dex-abcd");
    expect(pathAfterOnboarding({ pathname: "/keys", search: "" })).toBe("/");
  });
});
