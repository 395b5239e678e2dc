import { describe, expect, it } from "vitest";
import { isInstanceId, parseScopes, redirectKind, registrableRedirectProblem, SCOPES } from "./clients";

describe("instance ids", () => {
  it.each([
    ["dex-a1b2c3d4", true],
    ["dex-abcd", true],
    [`dex-${"a".repeat(32)}`, true],
    ["dex-abc", false],
    [`dex-${"a".repeat(33)}`, false],
    ["dex-A1B2C3D4", false],
    ["dex_a1b2c3d4", false],
    ["a1b2c3d4", false],
    ["dex-a1b2-c3d4", false],
    [" dex-a1b2c3d4", false],
  ])("%s -> %s", (id, ok) => expect(isInstanceId(id)).toBe(ok));
});

describe("scopes", () => {
  it("asks for every scope when none is named", () => {
    expect(parseScopes(undefined)).toEqual({ ok: true, scopes: [...SCOPES] });
    expect(parseScopes("")).toEqual({ ok: true, scopes: [...SCOPES] });
  });
  it("keeps the named ones in a fixed order without repeats", () => {
    expect(parseScopes("usage ai  ai identity")).toEqual({ ok: true, scopes: ["identity", "ai", "usage"] });
  });
  it("refuses unknown names instead of dropping them", () => {
    expect(parseScopes("ai admin openid admin")).toEqual({ ok: false, unknown: ["admin", "openid"] });
  });
});

describe("redirect URIs", () => {
  const registered = ["https://dex.example.com/oauth/callback"];
  it.each([
    ["http://127.0.0.1:8123/callback", "loopback"],
    ["http://127.0.0.1/callback", "loopback"],
    ["http://[::1]:49152/cb?x=1", "loopback"],
    ["https://dex-box.tail1234.ts.net/oauth/callback", "tailscale"],
    ["https://dex.example.com/oauth/callback", "registered"],
    ["https://dex.example.com/oauth/callback/", null],
    ["https://dex.example.com/oauth/callback?x=1", null],
    ["http://dex.example.com/oauth/callback", null],
    ["http://localhost:8123/callback", null],
    ["https://127.0.0.1:8123/callback", null],
    ["http://127.0.0.1.evil.com/cb", null],
    ["http://ts.net/cb", null],
    ["http://box.tail1234.ts.net/cb", null],
    ["https://ts.net.evil.com/cb", null],
    ["https://evil.com/ts.net/cb", null],
    ["https://user@box.tail1234.ts.net/cb", null],
    ["http://127.0.0.1:8123/cb#frag", null],
    ["javascript:alert(1)", null],
    ["/relative/path", null],
    ["", null],
  ])("%s -> %s", (uri, kind) => expect(redirectKind(uri, registered)).toBe(kind));

  it("registers only canonical https URLs without fragments or credentials", () => {
    expect(registrableRedirectProblem("https://dex.example.com/cb")).toBeNull();
    expect(registrableRedirectProblem("http://dex.example.com/cb")).toMatch(/Only https/);
    expect(registrableRedirectProblem("https://dex.example.com/cb#x")).toMatch(/fragment/);
    expect(registrableRedirectProblem("https://a:b@dex.example.com/cb")).toMatch(/user name/);
    expect(registrableRedirectProblem("https://DEX.example.com/cb")).toMatch(/Write the URL as https:\/\/dex.example.com\/cb/);
    expect(registrableRedirectProblem("not a url")).toMatch(/absolute URL/);
  });
});
