/// <reference types="vite/client" />
// Fixtures the OAuth tests share: the env the endpoints need, a PKCE pair, the consent page's
// approval for an account, and form posts to the endpoints through convex-test's fetch.
import { vi } from "vitest";
import { api } from "../_generated/api";
import { s256Challenge } from "../model/oauth/pkce";
import { randomBase62 } from "../model/apiKeySecrets";
import type { TestConvex } from "../test.setup";

export const SITE = "https://site.poindexter.test";
export const APP = "https://app.poindexter.test";
export const INSTANCE = "dex-a1b2c3d4";
export const REDIRECT = "http://127.0.0.1:8123/callback";

export function useOAuthEnv(): void {
  vi.stubEnv("CONVEX_SITE_URL", SITE);
  vi.stubEnv("APP_URL", APP);
  vi.stubEnv("ENCRYPTION_KEY", "b2F1dGgtdGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcyE=");
}

export async function pkce() {
  const verifier = randomBase62(64);
  return { verifier, challenge: await s256Challenge(verifier) };
}

export function params(challenge: string, over: Record<string, string | undefined> = {}) {
  return {
    client_id: INSTANCE,
    redirect_uri: REDIRECT,
    response_type: "code",
    code_challenge: challenge,
    code_challenge_method: "S256",
    state: "state-123",
    ...over,
  };
}

type As = ReturnType<TestConvex["withIdentity"]>;

/** Approves on the consent page and returns the code from the redirect URL. */
export async function authorize(as: As, challenge: string, over: Record<string, string | undefined> = {}) {
  const { redirectUrl } = await as.mutation(api.oauth.consent.approve, { params: params(challenge, over) });
  const url = new URL(redirectUrl);
  return { code: url.searchParams.get("code")!, url };
}

export async function post(t: TestConvex, path: string, form: Record<string, string | undefined>) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
  const res = await t.fetch(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded" }, body: body.toString() });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : null) as Record<string, any> | null };
}

export async function exchange(t: TestConvex, code: string, verifier: string, over: Record<string, string | undefined> = {}) {
  return await post(t, "/oauth/token", { grant_type: "authorization_code", code, code_verifier: verifier, redirect_uri: REDIRECT, client_id: INSTANCE, ...over });
}

export async function refresh(t: TestConvex, refreshToken: string, over: Record<string, string | undefined> = {}) {
  return await post(t, "/oauth/token", { grant_type: "refresh_token", refresh_token: refreshToken, client_id: INSTANCE, ...over });
}
