import { describe, expect, it } from "vitest";
import { SESSION_REFRESH_MARGIN_MS, SessionTokenClient, SessionTokenError } from "./sessionToken";

/** A fake site: /api/session mints numbered tokens; /v1/x answers per a rule on the token. */
function site(opts: { expiresIn?: number; sessionStatus?: number; answer?: (token: string) => { status: number; code?: string } } = {}) {
  let minted = 0;
  const calls: string[] = [];
  const fetchFn = (async (url: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(url)).pathname;
    const auth = new Headers(init?.headers).get("authorization") ?? "";
    calls.push(`${path} ${auth}`);
    if (path === "/api/session") {
      if (opts.sessionStatus) {
        return new Response(JSON.stringify({ error: { message: "Your account is suspended; it cannot use the AI proxy.", code: "account_inactive" } }), { status: opts.sessionStatus });
      }
      minted += 1;
      return new Response(JSON.stringify({ token: `pdx_st_${minted}`, expires_at: 0, expires_in: opts.expiresIn ?? 900 }), { status: 201 });
    }
    const token = auth.replace("Bearer ", "");
    const r = opts.answer?.(token) ?? { status: 200 };
    return new Response(JSON.stringify(r.code ? { error: { message: r.code, code: r.code } } : { ok: token }), { status: r.status });
  }) as typeof fetch;
  return { fetchFn, calls, minted: () => minted };
}

describe("the browser's session token", () => {
  it("fetches once for concurrent callers and reuses the token until near expiry", async () => {
    let now = 1_000_000;
    const s = site({ expiresIn: 900 });
    const client = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => "jwt", fetch: s.fetchFn, now: () => now });
    const [a, b] = await Promise.all([client.token(), client.token()]);
    expect(a).toBe("pdx_st_1");
    expect(b).toBe("pdx_st_1");
    expect(s.calls).toEqual(["/api/session Bearer jwt"]);
    now += 900_000 - SESSION_REFRESH_MARGIN_MS - 1;
    expect(await client.token()).toBe("pdx_st_1");
    now += 2;
    expect(await client.token()).toBe("pdx_st_2");
  });

  it("renews and retries once on a 401 session_expired; other errors pass through", async () => {
    const s = site({ answer: (t) => (t === "pdx_st_1" ? { status: 401, code: "session_expired" } : { status: 200 }) });
    const client = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => "jwt", fetch: s.fetchFn });
    const res = await client.fetch("/v1/x", { method: "POST" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: "pdx_st_2" });
    const forbidden = site({ answer: () => ({ status: 403, code: "account_inactive" }) });
    const other = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => "jwt", fetch: forbidden.fetchFn });
    expect((await other.fetch("/v1/x")).status).toBe(403);
    expect(forbidden.minted()).toBe(1);
  });

  it("does not loop when a fresh token is refused too", async () => {
    const s = site({ answer: () => ({ status: 401, code: "session_revoked" }) });
    const client = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => "jwt", fetch: s.fetchFn });
    expect((await client.fetch("/v1/x")).status).toBe(401);
    expect(s.minted()).toBe(2);
  });

  it("says why no token could be had: signed out, or the account refused", async () => {
    const signedOut = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => null, fetch: site().fetchFn });
    await expect(signedOut.token()).rejects.toMatchObject({ name: "SessionTokenError", code: "not_signed_in" });
    const refused = new SessionTokenClient({ siteUrl: "http://site", getJwt: async () => "jwt", fetch: site({ sessionStatus: 403 }).fetchFn });
    const err = await refused.token().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionTokenError);
    expect(err).toMatchObject({ status: 403, code: "account_inactive", message: "Your account is suspended; it cannot use the AI proxy." });
  });
});
