/// <reference types="vite/client" />
// Tests only: signed Stripe and Polar webhooks sent through the deployment's HTTP router, the
// billing env they are checked against, an account linked to a provider customer, and the rows
// a test reads back. Stripe payloads are signed with stripe-node's own test helper; Polar's with
// the standardwebhooks signer (secrets from 2026-09-08) or an HMAC keyed by the secret's UTF-8
// bytes (older secrets, what the simulator does).
import Stripe from "stripe";
import { Webhook } from "standardwebhooks";
import { afterEach, beforeEach, expect, vi } from "vitest";
import type { Id } from "../_generated/dataModel";
import { polarSubscription, stripeSubscription, type PolarSubscriptionOptions, type StripeSubscriptionOptions } from "../model/billing/providerEvents.setup";
import { signIn, type TestConvex } from "../test.setup";

export const STRIPE_SECRET = "whsec_test_billing_stripe_secret";
/** A Standard Webhooks secret (whsec_ + base64 of the key bytes), the scheme of new Polar endpoints. */
export const POLAR_SECRET = `whsec_${btoa("polar-webhook-test-key-32-bytes!")}`;
export const PRICE = { basic: "price_basic_test", pro: "price_pro_test" } as const;
export const PRODUCT = { basic: "0b9f7c2e-1d3a-4c5b-8e6f-7a8b9c0d1e2f", pro: "1c0a8d3f-2e4b-4d6c-9f70-8b9cad0e1f30" } as const;
export const APP_URL = "https://app.poindexter.test";

/** The subscription a basic-plan Stripe checkout of `userId` at `customer` creates (the plan in its metadata). */
export function basicStripeSubscription(userId: string, customer: string, o: { id: string } & Partial<StripeSubscriptionOptions>) {
  return stripeSubscription({ customer, price: PRICE.basic, metadata: { userId, plan: "basic" }, ...o });
}

/** A Polar subscription of `userId` to the basic product. */
export function basicPolarSubscription(userId: string, o: { id: string; modifiedAt: number } & Partial<PolarSubscriptionOptions>) {
  return polarSubscription({ externalId: userId, productId: PRODUCT.basic, ...o });
}

export function stubBillingEnv(over: Record<string, string> = {}): void {
  const values: Record<string, string> = {
    STRIPE_WEBHOOK_SECRET: STRIPE_SECRET,
    POLAR_WEBHOOK_SECRET: POLAR_SECRET,
    STRIPE_PRICE_BASIC: PRICE.basic,
    STRIPE_PRICE_PRO: PRICE.pro,
    POLAR_PRODUCT_BASIC: PRODUCT.basic,
    POLAR_PRODUCT_PRO: PRODUCT.pro,
    APP_URL,
    ...over,
  };
  for (const [name, value] of Object.entries(values)) vi.stubEnv(name, value);
}

/** The billing env before each test of the calling file, unstubbed after each. */
export function useBillingEnv(over: Record<string, string> = {}): void {
  beforeEach(() => stubBillingEnv(over));
  afterEach(() => vi.unstubAllEnvs());
}

export interface WebhookAnswer {
  status: number;
  body: { received?: boolean; outcome?: string; status?: string; replayed?: boolean; error?: string };
}

async function answer(res: Response): Promise<WebhookAnswer> {
  return { status: res.status, body: (await res.json()) as WebhookAnswer["body"] };
}

/** POST /webhooks/stripe with `Stripe-Signature` from stripe-node's test helper. */
export async function postStripe(
  t: TestConvex,
  event: unknown,
  opts: { secret?: string; timestamp?: number; body?: string; signature?: string | null } = {},
): Promise<WebhookAnswer> {
  const payload = JSON.stringify(event);
  const signature =
    opts.signature !== undefined
      ? opts.signature
      : await Stripe.webhooks.generateTestHeaderStringAsync({
          payload,
          secret: opts.secret ?? STRIPE_SECRET,
          timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
          cryptoProvider: Stripe.createSubtleCryptoProvider(),
        });
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (signature !== null) headers["stripe-signature"] = signature;
  return await answer(await t.fetch("/webhooks/stripe", { method: "POST", headers, body: opts.body ?? payload }));
}

/** HMAC-SHA256 of `id.timestamp.body` keyed by the UTF-8 bytes of the whole secret string. */
export async function utf8SchemeSignature(secret: string, id: string, timestampS: number, body: string): Promise<string> {
  const enc = new TextEncoder();
  const key = await crypto.subtle.importKey("raw", enc.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, enc.encode(`${id}.${timestampS}.${body}`)));
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

let polarSeq = 0;

/** POST /webhooks/polar, signed in either key scheme. */
export async function postPolar(
  t: TestConvex,
  event: unknown,
  opts: { scheme?: "standard" | "utf8"; secret?: string; id?: string; at?: Date; body?: string; omit?: string } = {},
): Promise<WebhookAnswer> {
  const id = opts.id ?? `msg_billing_${++polarSeq}`;
  const at = opts.at ?? new Date();
  const payload = JSON.stringify(event);
  const secret = opts.secret ?? POLAR_SECRET;
  const signature =
    opts.scheme === "utf8"
      ? await utf8SchemeSignature(secret, id, Math.floor(at.getTime() / 1000), payload)
      : new Webhook(secret).sign(id, at, payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signature,
  };
  if (opts.omit) delete headers[opts.omit];
  return await answer(await t.fetch("/webhooks/polar", { method: "POST", headers, body: opts.body ?? payload }));
}

/**
 * A signed-in customer on the trial, linked to a provider customer the way checkout links it
 * (users.stripeCustomerId / polarCustomerId and a billingCustomers row).
 */
export async function billedCustomer(
  t: TestConvex,
  email: string,
  link: { provider: "stripe" | "polar"; customerId: string } | null = { provider: "stripe", customerId: `cus_${email.split("@")[0]}` },
) {
  const { userId, as } = await signIn(t, email);
  await t.run(async (ctx) => {
    await ctx.db.patch("users", userId, { trialEndsAt: Date.now() + 14 * 86_400_000 });
    if (link === null) return;
    await ctx.db.patch("users", userId, {
      billingProvider: link.provider,
      ...(link.provider === "stripe" ? { stripeCustomerId: link.customerId } : { polarCustomerId: link.customerId }),
    });
    await ctx.db.insert("billingCustomers", { userId, provider: link.provider, customerId: link.customerId, createdAt: Date.now() });
  });
  return { userId, as, customerId: link?.customerId ?? null };
}

/** Everything billing writes about one account, for assertions. */
export async function billingRows(t: TestConvex, userId: Id<"users">) {
  return await t.run(async (ctx) => ({
    user: (await ctx.db.get("users", userId))!,
    subscriptions: await ctx.db.query("subscriptions").withIndex("by_userId", (q) => q.eq("userId", userId)).collect(),
    invoices: await ctx.db.query("invoices").withIndex("by_userId_and_createdAt", (q) => q.eq("userId", userId)).collect(),
    events: await ctx.db.query("webhookEvents").withIndex("by_userId_and_receivedAt", (q) => q.eq("userId", userId)).collect(),
    deprovision: await ctx.db.query("deprovisionRequests").withIndex("by_userId", (q) => q.eq("userId", userId)).collect(),
    alerts: await ctx.db.query("alerts").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).collect(),
    audits: await ctx.db
      .query("auditLogs")
      .withIndex("by_targetType_and_targetId", (q) => q.eq("targetType", "user").eq("targetId", userId))
      .collect(),
  }));
}

/** Every webhookEvents row, whoever it concerns (events without an account have no userId). */
export async function allEvents(t: TestConvex) {
  return await t.run(async (ctx) => await ctx.db.query("webhookEvents").collect());
}

/** A refused webhook recorded and changed nothing: the account still in its trial, no subscription, audit or event. */
export async function expectUntouched(t: TestConvex, userId: Id<"users">): Promise<void> {
  const rows = await billingRows(t, userId);
  expect(rows.user.state).toBe("trial");
  expect(rows.subscriptions).toEqual([]);
  expect(rows.audits).toEqual([]);
  expect(await allEvents(t)).toEqual([]);
}
