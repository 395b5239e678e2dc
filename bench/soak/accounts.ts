/**
 * The soak's customers and its billing provider: signups through the real path (dev sign-in,
 * then `signup.account.ensure`, each from its own address), checkouts through the simulator's
 * hosted Stripe Checkout, key rotations, provisioned credentials, and the simulator's control
 * calls (webhook log, redelivery, renewals, served list).
 */
import { ConvexHttpClient } from "convex/browser";
import { api, internal } from "../../convex/_generated/api.js";
import type { PlanId } from "../../convex/model/plans.ts";
import { asAdmin } from "../../scripts/cli.ts";
import { devToken } from "../devSignIn.ts";

export interface Customer {
  email: string;
  userId: string;
  /** The dev issuer's JWT (1 h): signs the person in for checkout, rotation and credentials. */
  jwt: string;
  ip: string;
  /** The secret its traffic sends now (a key, or a provisioned credential). */
  secret: string;
  keyId: string;
  /** What it bought; trial until a checkout's webhooks land. */
  plan: PlanId;
  /** Sends with a provisioned credential instead of its API key. */
  usesCredential: boolean;
  /** Joined after the start (a signup during the traffic). */
  lateSignup: boolean;
}

/** A ConvexHttpClient that presents `ip` as the client address (the runtime trusts X-Forwarded-For). */
export function clientAs(cloud: string, jwt: string | null, ip: string): ConvexHttpClient {
  const client = new ConvexHttpClient(cloud, {
    fetch: (input, init) => fetch(input, { ...init, headers: { ...Object.fromEntries(new Headers(init?.headers).entries()), "x-forwarded-for": ip } }),
  });
  if (jwt) client.setAuth(jwt);
  return client;
}

export function adminClient(cloud: string, adminKey: string): ConvexHttpClient {
  const client = new ConvexHttpClient(cloud);
  // Not in the public typings, but the supported way to call internal functions as admin.
  (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(adminKey);
  return client;
}

/** 198.18.0.0/15 is reserved for benchmarks (RFC 2544): the address of signup i. */
export function soakIp(i: number): string {
  return `198.18.${Math.floor(i / 250)}.${(i % 250) + 1}`;
}

/** One person signs up: a dev sign-in token, then ensure, which creates the trial and its first key. */
export async function signUp(urls: { cloud: string; site: string }, email: string, ip: string, lateSignup: boolean): Promise<Customer> {
  const jwt = await devToken(urls.site, email);
  const result = await clientAs(urls.cloud, jwt, ip).mutation(api.signup.account.ensure, {});
  if (result.status !== "created") throw new Error(`signup of ${email} answered ${result.status}${result.status === "refused" ? ` (${result.reason}: ${result.message})` : ""}`);
  return { email, userId: result.userId, jwt, ip, secret: result.firstKey.secret, keyId: result.firstKey.keyId, plan: "trial", usesCredential: false, lateSignup };
}

/** The hosted checkout for `plan`, paid at the simulator; returns the session id. */
export async function buyPlan(urls: { cloud: string }, simUrl: string, customer: Customer, plan: "basic" | "pro"): Promise<string> {
  const { url } = await clientAs(urls.cloud, customer.jwt, customer.ip).action(api.billing.checkout.start, { plan });
  const session = new URL(url).pathname.split("/").pop()!;
  const res = await fetch(`${simUrl}/_sim/stripe/checkout/${session}/complete`, { method: "POST" });
  if (!res.ok) throw new Error(`completing checkout ${session} answered ${res.status}: ${await res.text()}`);
  return session;
}

/** Rotates the customer's key (the old one keeps working for `graceHours`); returns the new one. */
export async function rotateKey(urls: { cloud: string }, customer: Customer, graceHours: number): Promise<{ keyId: string; secret: string }> {
  const rotated = await clientAs(urls.cloud, customer.jwt, customer.ip).mutation(api.apiKeys.manage.rotate, { keyId: customer.keyId as never, graceHours });
  return { keyId: rotated.keyId, secret: rotated.secret };
}

/**
 * POST /api/provisioning/token (issue 13's short-lived credentials): a new credential for the
 * signed-in account, or the route's status when it is not there (404) or refuses.
 */
export async function provisionCredential(site: string, customer: Customer): Promise<{ ok: true; token: string } | { ok: false; status: number; body: string }> {
  const res = await fetch(`${site}/api/provisioning/token`, {
    method: "POST",
    headers: { authorization: `Bearer ${customer.jwt}`, "content-type": "application/json" },
    body: JSON.stringify({ provider: "openai" }),
  });
  const text = await res.text();
  if (res.status !== 201 && res.status !== 200) return { ok: false, status: res.status, body: text.slice(0, 300) };
  const token = (JSON.parse(text) as { token?: unknown }).token;
  if (typeof token !== "string") return { ok: false, status: res.status, body: "the answer carries no token" };
  return { ok: true, token };
}

/** Settles usage on the ledger directly (internal.quota.ledger.settle, the proxy's own mutation). */
export async function seedUsage(admin: ConvexHttpClient, seed: { requestId: string; userId: string; tokensIn: number; tokensOut: number }): Promise<void> {
  await admin.mutation(asAdmin(internal.quota.ledger.settle), {
    requestId: seed.requestId,
    userId: seed.userId as never,
    kind: "chat",
    provider: "openai",
    model: "gpt-4o-mini",
    tokensIn: seed.tokensIn,
    cachedTokensIn: 0,
    tokensOut: seed.tokensOut,
    characters: 0,
    usageSource: "provider",
    status: "ok",
    httpStatus: 200,
    latencyMs: 0,
  });
}

export async function reportOverageNow(admin: ConvexHttpClient): Promise<void> {
  await admin.mutation(asAdmin(internal.billing.overage.reportCurrentMonth), {});
}

// ---------------------------------------------------------------------------------------------
// The simulator's control surface

export class Simulator {
  constructor(readonly url: string) {}

  async post(path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${this.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`simulator ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return text ? JSON.parse(text) : null;
  }

  async get<T>(path: string): Promise<T> {
    const res = await fetch(`${this.url}${path}`);
    if (!res.ok) throw new Error(`simulator ${path} answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return (await res.json()) as T;
  }

  configure(patch: unknown): Promise<unknown> {
    return this.post("/_sim/config", patch);
  }

  async webhooks(): Promise<{ seq: number; provider: string; eventId: string; eventType: string; status: number | null; redeliveryOf: number | null }[]> {
    return (await this.get<{ deliveries: { seq: number; provider: string; eventId: string; eventType: string; status: number | null; redeliveryOf: number | null }[] }>("/_sim/webhooks")).deliveries;
  }

  async redeliver(seq: number, url: string): Promise<{ status: number | null; error: string | null }> {
    const { delivery } = (await this.post(`/_sim/webhooks/${seq}/redeliver`, { url })) as { delivery: { status: number | null; error: string | null } };
    return delivery;
  }

  /** Every AI request served, page by page; fails if the bounded log dropped any. */
  async served<T>(): Promise<T[]> {
    const out: T[] = [];
    let after = 0;
    for (;;) {
      const page = await this.get<{ served: T[]; next: number | null; truncated: boolean }>(`/_sim/served?after=${after}&limit=10000`);
      if (page.truncated) throw new Error("the simulator's request log dropped entries before they were read: raise requestLogSize");
      out.push(...page.served);
      if (page.next === null) return out;
      after = page.next;
    }
  }
}
