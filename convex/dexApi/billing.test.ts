// The Dex API's billing endpoints with an account's key: the subscription summary, a checkout URL
// (the provider simulator as Stripe, over real HTTP) and a portal URL, errors in OpenAI's shape.
import { afterEach, describe, expect, test, vi } from "vitest";
import { customer, newTest, type TestConvex } from "../test.setup";
import { useBillingStack } from "../billing/simulator.setup";
import { PRICE } from "../billing/webhooks.setup";

const stack = useBillingStack();
afterEach(() => vi.unstubAllEnvs());

async function call(t: TestConvex, method: "GET" | "POST", path: string, secret: string | null, body?: unknown) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (secret !== null) headers.authorization = `Bearer ${secret}`;
  const res = await t.fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe("Dex API billing", () => {
  test("GET /v1/billing/subscription: the account's plan, state and subscription", async () => {
    const t = newTest();
    const { secret } = await customer(t, "trial", "dex@example.com");
    const res = await call(t, "GET", "/v1/billing/subscription", secret);
    expect(res).toEqual({
      status: 200,
      body: {
        object: "billing.subscription",
        plan: "trial",
        state: "trial",
        provider: null,
        trialEndsAt: null,
        subscription: null,
        canStartCheckout: true,
        canOpenPortal: false,
      },
    });
  });

  test("POST /v1/billing/subscribe returns a checkout URL; then POST /v1/billing/portal a portal URL", async () => {
    const t = newTest();
    const { secret } = await customer(t, "trial", "buyer@example.com");
    const portalFirst = await call(t, "POST", "/v1/billing/portal", secret);
    expect(portalFirst).toEqual({
      status: 404,
      body: { error: { message: "You have no billing account yet: choose a plan first.", type: "invalid_request_error", param: null, code: "not_found" } },
    });
    const res = await call(t, "POST", "/v1/billing/subscribe", secret, { plan: "pro" });
    expect(res).toEqual({ status: 200, body: { object: "billing.checkout_session", provider: "stripe", url: expect.stringContaining("/_sim/stripe/checkout/cs_") } });
    const session = stack.sim.requests({ pathPrefix: "/v1/checkout/sessions" })[0].body as { line_items: Array<{ price: string }> };
    expect(session.line_items[0].price).toBe(PRICE.pro);
    const portal = await call(t, "POST", "/v1/billing/portal", secret);
    expect(portal).toEqual({ status: 200, body: { object: "billing.portal_session", provider: "stripe", url: expect.stringContaining("/_sim/stripe/portal/bps_") } });
  });

  test("a wrong or missing plan, a missing key, a deployment without Stripe: OpenAI-shaped errors", async () => {
    const t = newTest();
    const { secret } = await customer(t, "trial", "errors@example.com");
    expect(await call(t, "POST", "/v1/billing/subscribe", secret, { plan: "gold" })).toEqual({
      status: 400,
      body: {
        error: {
          message: 'Choose the plan "basic" or "pro" (got "gold"); the trial cannot be bought.',
          type: "invalid_request_error",
          param: null,
          code: "invalid_argument",
        },
      },
    });
    expect((await call(t, "POST", "/v1/billing/subscribe", secret, {})).body).toMatchObject({ error: { param: "plan", code: "missing_required_parameter" } });
    expect((await call(t, "GET", "/v1/billing/subscription", null)).status).toBe(401);
    vi.stubEnv("STRIPE_SECRET_KEY", "");
    expect(await call(t, "POST", "/v1/billing/subscribe", secret, { plan: "basic" })).toEqual({
      status: 503,
      body: {
        error: {
          message: "STRIPE_SECRET_KEY is not set on this deployment: Stripe checkout is unavailable.",
          type: "server_error",
          param: null,
          code: "billing_not_configured",
        },
      },
    });
  });
});
