import { describe, expect, it } from "vitest";
import { authorizationResponseUrl, checkAuthorizationRequest, type AuthorizationParams } from "./authorize";
import { authorizationServerMetadata } from "./metadata";

const CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const base: AuthorizationParams = {
  client_id: "dex-a1b2c3d4",
  redirect_uri: "http://127.0.0.1:8123/callback",
  response_type: "code",
  code_challenge: CHALLENGE,
  code_challenge_method: "S256",
  state: "xyz",
};

describe("authorization requests", () => {
  it("accepts a complete request and asks for every scope by default", () => {
    expect(checkAuthorizationRequest(base, [])).toEqual({
      ok: true,
      request: {
        clientId: "dex-a1b2c3d4",
        redirectUri: "http://127.0.0.1:8123/callback",
        codeChallenge: CHALLENGE,
        state: "xyz",
        scopes: ["identity", "email", "signal", "calendar", "ai", "usage"],
      },
    });
  });

  it.each([
    ["no client_id", { client_id: undefined }],
    ["a client_id that is not an instance id", { client_id: "evil" }],
    ["no redirect_uri", { redirect_uri: undefined }],
    ["a redirect_uri nobody registered", { redirect_uri: "https://evil.example/cb" }],
    ["localhost instead of a loopback IP", { redirect_uri: "http://localhost:8123/callback" }],
  ])("never redirects for %s", (_name, over) => {
    const check = checkAuthorizationRequest({ ...base, ...over }, []);
    expect(check).toMatchObject({ ok: false, redirectable: false });
  });

  it("accepts an https redirect only when the account registered it exactly", () => {
    const uri = "https://dex.example.com/cb";
    expect(checkAuthorizationRequest({ ...base, redirect_uri: uri }, [uri]).ok).toBe(true);
    expect(checkAuthorizationRequest({ ...base, redirect_uri: `${uri}?a=1` }, [uri])).toMatchObject({ ok: false, redirectable: false });
  });

  it.each([
    ["response_type token", { response_type: "token" }, "unsupported_response_type"],
    ["no state", { state: undefined }, "invalid_request"],
    ["no code_challenge", { code_challenge: undefined }, "invalid_request"],
    ["the plain method", { code_challenge_method: "plain" }, "invalid_request"],
    ["no method (plain by default)", { code_challenge_method: undefined }, "invalid_request"],
    ["a challenge that is not S256-shaped", { code_challenge: "short" }, "invalid_request"],
    ["an unknown scope", { scope: "ai admin" }, "invalid_scope"],
  ])("reports %s for the validated redirect URI", (_name, over, error) => {
    const check = checkAuthorizationRequest({ ...base, ...over }, []);
    expect(check).toMatchObject({ ok: false, redirectable: true, error, redirectUri: base.redirect_uri });
  });

  it("adds the response to the redirect URI's own query, with iss", () => {
    const url = authorizationResponseUrl("http://127.0.0.1:9/cb?keep=1", "https://site.example", { code: "c", state: "s t", error: undefined });
    const parsed = new URL(url);
    expect(parsed.origin + parsed.pathname).toBe("http://127.0.0.1:9/cb");
    expect(Object.fromEntries(parsed.searchParams)).toEqual({ keep: "1", code: "c", state: "s t", iss: "https://site.example" });
  });
});

describe("metadata", () => {
  it("names the issuer, S256 only, public clients and every endpoint", () => {
    const m = authorizationServerMetadata("https://site.example", "https://app.example/");
    expect(m).toMatchObject({
      issuer: "https://site.example",
      authorization_endpoint: "https://app.example/connect",
      token_endpoint: "https://site.example/oauth/token",
      revocation_endpoint: "https://site.example/oauth/revoke",
      device_authorization_endpoint: "https://site.example/oauth/device_authorization",
      code_challenge_methods_supported: ["S256"],
      token_endpoint_auth_methods_supported: ["none"],
      authorization_response_iss_parameter_supported: true,
    });
    expect(m.grant_types_supported).toEqual(["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"]);
  });
});
