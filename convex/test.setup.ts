/// <reference types="vite/client" />
// The one place tests build a Convex test backend and its fixtures: the app's schema and
// modules plus every component from convex.config.ts, registered under the same names, and
// the accounts, keys and usage events tests start from.
import { convexTest } from "convex-test";
import rateLimiterTest from "@convex-dev/rate-limiter/test";
import workpoolTest from "@convex-dev/workpool/test";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { balanceDoc, recordUsage } from "./lib/usageTotals";
import { hashSecret } from "./model/apiKeySecrets";
import { monthOf } from "./model/calendar";
import type { PlanId } from "./model/plans";
import { PRICE_VERSION } from "./model/pricing";
import type { BreakerState } from "./model/proxy/breaker";
import { liveHolds } from "./model/quota/balance";
import schema from "./schema";

// Every file under convex/; convex-test loads a module only when a function in it is called.
export const modules = import.meta.glob("./**/*.*s");

export function newTest() {
  const t = convexTest(schema, modules);
  rateLimiterTest.register(t, "rateLimiter");
  workpoolTest.register(t, "providerPool");
  workpoolTest.register(t, "identityPool");
  return t;
}

export type TestConvex = ReturnType<typeof newTest>;
export type Role = Doc<"users">["role"];

const ISSUER = "https://test.local";

/**
 * A signed-in caller with an account row, as the SPA would have after sign-in. Paid plans
 * start active; the trial starts in trial.
 */
export async function signIn(t: TestConvex, email: string, role: Role = "user", plan: PlanId = "trial") {
  const subject = `test|${email}`;
  const userId = await t.run(async (ctx) =>
    ctx.db.insert("users", {
      tokenIdentifier: `${ISSUER}|${subject}`,
      email,
      role,
      state: plan === "trial" ? "trial" : "active",
      plan,
      lastSeenAt: Date.now(),
    }),
  );
  const as = t.withIdentity({ subject, issuer: ISSUER, email });
  return { userId, as };
}

/** A signed-in customer on `plan` with one live API key (made the way the CLI makes keys). */
export async function customer(t: TestConvex, plan: PlanId = "trial", email = `${plan}@example.com`) {
  const { userId, as } = await signIn(t, email, "user", plan);
  const { keyId, secret } = await t.mutation(internal.cli.createApiKey, { email });
  return { userId, as, email, keyId, secret, keyHash: await hashSecret(secret) };
}

let eventSeq = 0;

type UsageEventFields = Omit<Doc<"usageEvents">, "_id" | "_creationTime">;

/** One usageEvents row of a settled chat request (gpt-4o-mini, 100 in / 50 out, ok, now); override any field. */
export function usageEventRow(userId: Id<"users">, over: Partial<UsageEventFields> = {}): UsageEventFields {
  return {
    userId,
    requestId: `req_fixture_${++eventSeq}`,
    kind: "chat",
    provider: "openai",
    model: "gpt-4o-mini",
    tokensIn: 100,
    tokensOut: 50,
    characters: 0,
    costMicros: 45,
    priceVersion: PRICE_VERSION,
    usageSource: "provider",
    latencyMs: 5,
    status: "ok",
    httpStatus: 200,
    at: Date.now(),
    ...over,
  };
}

/** A settled request as the ledger records it (balance and event); override any field. */
export async function usageEvent(
  t: TestConvex,
  userId: Id<"users">,
  over: Partial<Omit<UsageEventFields, "userId" | "quotaThresholds">> = {},
): Promise<Id<"usageEvents">> {
  return await t.run(async (ctx) => recordUsage(ctx, usageEventRow(userId, over), Date.now()));
}

/** A breaker transition as the proxy records it: 12 of 20 failed (none when closing), 30 s cool-down. */
export function breakerTransition(from: BreakerState, to: BreakerState, at: number) {
  return {
    from,
    to,
    at,
    requests: 20,
    failures: to === "closed" ? 0 : 12,
    reopenAt: to === "open" ? at + 30_000 : null,
    coolDownMs: 30_000,
    lastError: to === "closed" ? null : "HTTP 502",
  };
}

export async function eventsOf(t: TestConvex, userId: Id<"users">) {
  return await t.run(async (ctx) =>
    ctx.db.query("usageEvents").withIndex("by_userId_and_at", (q) => q.eq("userId", userId)).collect(),
  );
}

/** The holds still counting on the user's balance this month. */
export async function holdsOf(t: TestConvex, userId: Id<"users">) {
  return await t.run(async (ctx) => {
    const now = Date.now();
    return liveHolds((await balanceDoc(ctx, userId, monthOf(now)))?.holds ?? [], now);
  });
}

/** The ConvexError code a call failed with ("NO_ERROR" when it succeeded). */
export async function errorCodeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "NO_ERROR";
  } catch (e) {
    return (e as { data?: { code?: string } }).data?.code ?? `plain error: ${(e as Error).message}`;
  }
}
