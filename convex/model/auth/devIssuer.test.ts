import { describe, expect, it } from "vitest";
import { devIssuer, devJwksUrl, isDevIdentity } from "./devIssuer";

describe("the dev issuer decision", () => {
  const site = "http://127.0.0.1:3211";

  it("exists only with DEV_AUTH=true and a site URL", () => {
    expect(devIssuer({ DEV_AUTH: "true", CONVEX_SITE_URL: site })).toBe(`${site}/dev-auth`);
    expect(devIssuer({ DEV_AUTH: "true", CONVEX_SITE_URL: `${site}/` })).toBe(`${site}/dev-auth`);
    expect(devIssuer({ DEV_AUTH: "1", CONVEX_SITE_URL: site })).toBeNull();
    expect(devIssuer({ CONVEX_SITE_URL: site })).toBeNull();
    expect(devIssuer({ DEV_AUTH: "true" })).toBeNull();
    expect(devJwksUrl({ DEV_AUTH: "true", CONVEX_SITE_URL: site })).toBe(`${site}/.well-known/jwks.json`);
    expect(devJwksUrl({ CONVEX_SITE_URL: site })).toBeNull();
  });

  it("recognises only identities from that issuer", () => {
    const env = { DEV_AUTH: "true", CONVEX_SITE_URL: site };
    expect(isDevIdentity({ issuer: `${site}/dev-auth` }, env)).toBe(true);
    expect(isDevIdentity({ issuer: "https://clerk.example.com" }, env)).toBe(false);
    expect(isDevIdentity({ issuer: `${site}/dev-auth` }, { CONVEX_SITE_URL: site })).toBe(false);
  });
});
