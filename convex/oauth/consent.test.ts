// Signup + connect: a trial account chooses a plan on /connect, checkout (the provider simulator,
// its signed webhooks flowing back) returns to the same request, and a new customer's request is
// then approved without asking again; an existing customer's is not.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api } from "../_generated/api";
import { errorCodeOf, signIn } from "../test.setup";
import { control, stubSimulatorBillingEnv, useBillingStack } from "../billing/simulator.setup";
import { APP_URL } from "../billing/webhooks.setup";
import { params, pkce, SITE, useOAuthEnv } from "./oauth.setup";

vi.setConfig({ testTimeout: 30_000 });

const stack = useBillingStack();
beforeEach(() => {
  useOAuthEnv();
  // useOAuthEnv points APP_URL elsewhere; checkout returns to the billing stack's app.
  stubSimulatorBillingEnv(stack.sim);
});
afterEach(() => vi.unstubAllEnvs());

const posts = (path: string) => stack.sim.requests({ pathPrefix: path }).filter((r) => r.method === "POST");

describe("choosing a plan from /connect", () => {
  it("returns to the same request, and approves it on return for a new customer", async () => {
    const t = stack.deployment();
    const { as } = await signIn(t, "newbie@example.com");
    const { challenge } = await pkce();
    const request = params(challenge, { scope: "ai usage" });
    expect(await as.query(api.oauth.consent.describe, { params: request })).toMatchObject({ readiness: "needs_plan", pendingSince: null });

    const { url } = await as.action(api.oauth.checkout.start, { plan: "basic", params: request });
    const body = posts("/v1/checkout/sessions")[0].body as { success_url: string; cancel_url: string };
    const back = new URL(body.success_url);
    expect(back.origin + back.pathname).toBe(`${APP_URL}/connect`);
    expect(Object.fromEntries(back.searchParams)).toEqual({ ...request, checkout: "success" });
    expect(new URL(body.cancel_url).searchParams.get("checkout")).toBe("canceled");

    // Before the payment lands the request waits on the plan; the account's choice is kept.
    const waiting = await as.query(api.oauth.consent.describe, { params: request });
    expect(waiting).toMatchObject({ readiness: "needs_plan", pendingSince: expect.any(Number) });

    await control(stack.sim, `/_sim/stripe/checkout/${url.split("/").pop()}/complete`);
    expect(await as.query(api.oauth.consent.describe, { params: request })).toMatchObject({ readiness: "ready", pendingSince: expect.any(Number) });
    // Only this exact request: another state is a different request.
    expect(await as.query(api.oauth.consent.describe, { params: { ...request, state: "other" } })).toMatchObject({ pendingSince: null });

    const { redirectUrl } = await as.mutation(api.oauth.consent.approve, { params: request });
    expect(new URL(redirectUrl).searchParams.get("iss")).toBe(SITE);
    // Spent by the approval.
    expect(await as.query(api.oauth.consent.describe, { params: request })).toMatchObject({ pendingSince: null });
  });

  it("does not remember the request of an account that had a subscription before", async () => {
    const t = stack.deployment();
    const { as, userId } = await signIn(t, "returning@example.com");
    await t.run(async (ctx) =>
      ctx.db.insert("subscriptions", {
        userId,
        provider: "stripe",
        providerSubscriptionId: "sub_old",
        plan: "basic",
        status: "canceled",
        ended: true,
        cancelAtPeriodEnd: false,
        providerUpdatedAt: Date.now() - 1000,
        provisional: false,
        updatedAt: Date.now() - 1000,
      }),
    );
    const { challenge } = await pkce();
    const request = params(challenge);
    await as.action(api.oauth.checkout.start, { plan: "basic", params: request });
    expect(await as.query(api.oauth.consent.describe, { params: request })).toMatchObject({ pendingSince: null });
  });

  it("refuses to start checkout for a request the page could not show", async () => {
    const t = stack.deployment();
    const { as } = await signIn(t, "newbie@example.com");
    const { challenge } = await pkce();
    const bad = params(challenge, { redirect_uri: "https://evil.example.com/cb" });
    expect(await errorCodeOf(as.action(api.oauth.checkout.start, { plan: "basic", params: bad }))).toBe("INVALID_ARGUMENT");
    expect(posts("/v1/checkout/sessions")).toEqual([]);
  });
});
