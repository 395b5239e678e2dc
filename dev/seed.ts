// Demo data for `npm run dev`, inserted once: four accounts whose tokenIdentifier
// matches what dev sign-in produces, and ~30 days of usage for the basic user, recorded
// by the ledger's own write (events and monthly balances) and folded into usageDaily by the
// real rollup job (so they always agree).
import type { HostEngine, InlineCtx } from "./runtime/engineHost.ts";
import { PRICE_VERSION, tokenCostMicros } from "../convex/model/pricing.ts";
import { getFunctionName } from "convex/server";
import { internal } from "../convex/_generated/api.js";
import type { Id } from "../convex/_generated/dataModel.js";
import type { MutationCtx } from "../convex/_generated/server.js";
import { recordUsage } from "../convex/lib/usageTotals.ts";

const DAY = 24 * 60 * 60 * 1000;
export const DEMO_USERS = [
  { email: "trial@poindexter.dev", role: "user", state: "trial", plan: "trial" },
  { email: "basic@poindexter.dev", role: "user", state: "active", plan: "basic" },
  { email: "support@poindexter.dev", role: "support", state: "active", plan: "basic" },
  { email: "admin@poindexter.dev", role: "admin", state: "active", plan: "pro" },
] as const;

export function devTokenIdentifier(siteUrl: string, email: string) {
  return `${siteUrl}/dev-auth|dev|${email}`;
}

/** Deterministic pseudo-random numbers so every fresh dev database looks the same. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

interface DemoEvent {
  at: number;
  model: string;
  tokensIn: number;
  tokensOut: number;
  costMicros: number;
}

export function demoUsage(now: number, days = 30): DemoEvent[] {
  const rand = rng(42);
  const events: DemoEvent[] = [];
  for (let d = days; d >= 1; d--) {
    const perDay = 3 + Math.floor(rand() * 8);
    for (let i = 0; i < perDay; i++) {
      const at = Math.floor(now - d * DAY + rand() * DAY);
      const model = rand() < 0.7 ? "gpt-4o-mini" : "gpt-4o";
      const tokensIn = 200 + Math.floor(rand() * 3000);
      const tokensOut = 50 + Math.floor(rand() * 1200);
      events.push({ at, model, tokensIn, tokensOut, costMicros: tokenCostMicros(model, { tokensIn, tokensOut }) });
    }
  }
  return events.sort((a, b) => a.at - b.at);
}

/** Inserts the demo accounts unless they exist. Returns true when it seeded. */
export async function seed(engine: HostEngine, siteUrl: string, now = Date.now()): Promise<boolean> {
  let seeded = false;
  await engine.runInline(async (ctx: InlineCtx) => {
    const existing = await ctx.db
      .query("users")
      .withIndex("by_email", (q) => q.eq("email", DEMO_USERS[0].email))
      .first();
    if (existing) return;
    seeded = true;
    const ids: Record<string, string> = {};
    for (const u of DEMO_USERS) {
      ids[u.email] = await ctx.db.insert("users", {
        tokenIdentifier: devTokenIdentifier(siteUrl, u.email),
        email: u.email,
        name: u.email.split("@")[0],
        role: u.role,
        state: u.state,
        plan: u.plan,
        ...(u.state === "trial" ? { trialEndsAt: now + 14 * DAY } : {}),
        lastSeenAt: now,
      });
    }
    const userId = ids["basic@poindexter.dev"];
    const events = demoUsage(now);
    for (const [i, e] of events.entries()) {
      // Recorded as the ledger records a settled request: the event and its month's balance.
      await recordUsage(ctx as unknown as MutationCtx, {
        userId: userId as Id<"users">,
        requestId: `seed-${i}`,
        kind: "chat",
        provider: "openai",
        model: e.model,
        tokensIn: e.tokensIn,
        tokensOut: e.tokensOut,
        characters: 0,
        costMicros: e.costMicros,
        priceVersion: PRICE_VERSION,
        usageSource: "provider",
        latencyMs: 400 + (i % 7) * 130,
        status: "ok",
        httpStatus: 200,
        at: e.at,
      }, now);
    }
  });
  if (seeded) {
    // The rollup folds at most a batch per run; run it until the history is folded in.
    for (let i = 0; i < 100; i++) {
      const r = await engine.call("mutation", getFunctionName(internal.usage.rollup.foldEvents), {}, null);
      if (!r.ok) throw new Error(`seeding: usage rollup failed: ${r.message}`);
      if ((r.value as { events: number }).events === 0) break;
    }
  }
  return seeded;
}
