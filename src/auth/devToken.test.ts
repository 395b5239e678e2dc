import { describe, expect, it, vi } from "vitest";
import { REFRESH_MARGIN_MS, tokenFor, type DevCredentials } from "./devToken";

const now = 1_700_000_000_000;
const credentials = (expiresAt: number): DevCredentials => ({
  email: "ada@example.com",
  role: "support",
  token: `token-${expiresAt}`,
  expiresAt,
});

describe("tokenFor", () => {
  it("reuses a token with time to spare", async () => {
    const request = vi.fn();
    const current = credentials(now + 30 * 60_000);
    expect(await tokenFor(current, false, request, now)).toBe(current);
    expect(request).not.toHaveBeenCalled();
  });

  it("fetches a new token for the same person when close to expiry", async () => {
    const fresh = credentials(now + 60 * 60_000);
    const request = vi.fn().mockResolvedValue(fresh);
    expect(await tokenFor(credentials(now + REFRESH_MARGIN_MS - 1), false, request, now)).toBe(fresh);
    expect(request).toHaveBeenCalledWith("ada@example.com", "support");
  });

  it("fetches a new token when the client forces a refresh, however fresh the old one", async () => {
    const fresh = credentials(now + 60 * 60_000);
    const request = vi.fn().mockResolvedValue(fresh);
    expect(await tokenFor(credentials(now + 50 * 60_000), true, request, now)).toBe(fresh);
    expect(request).toHaveBeenCalledTimes(1);
  });

  it("passes the issuer's refusal on to the caller", async () => {
    const request = vi.fn().mockRejectedValue(new Error("Dev sign-in failed: HTTP 500"));
    await expect(tokenFor(credentials(now - 1), false, request, now)).rejects.toThrow(/HTTP 500/);
  });
});
