// The browser test of the support console's AI providers page: the provider simulator starts
// failing, real requests through the `openai` SDK trip the proxy's breaker, and the page shows
// it open, live, with why and when it probes again.
import OpenAI from "openai";
import { getFunctionName } from "convex/server";
import { internal } from "../../convex/_generated/api.js";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { assertSameDocument, byTestId, devSignIn, markDocument, newPage, type World } from "./browser.ts";

/**
 * Runs near the end of the suite: the breaker it opens refuses OpenAI requests for its
 * cool-down (30 s by default) after the test, so no later test may depend on the proxy.
 */
export function providerSpecs(world: World, opts: { stamp: string; support: string }): TestCase[] {
  const { stack } = world;
  return [
    {
      name: "support watches a provider's breaker open live: state, failure rate, next probe, last error, transition",
      fn: async () => {
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, opts.support, "support");
        await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "AI providers" }).click();
        await staff.getByRole("heading", { name: "AI providers" }).waitFor();
        // Loaded: the table, or the empty state of a deployment whose breakers never opened.
        await staff.getByRole("region", { name: "Breakers" }).getByText(/Every provider is healthy|openai/).first().waitFor();
        await markDocument(staff);

        // A customer whose requests will fail upstream.
        const email = `breaker-${opts.stamp}@example.com`;
        await stack.runtime.run("mutation", getFunctionName(internal.cli.createAccount), { email, plan: "pro" });
        const { secret } = (await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email })) as {
          secret: string;
        };
        const client = new OpenAI({ apiKey: secret, baseURL: `${stack.siteUrl}/v1`, maxRetries: 0 });
        stack.simulator.configure({ fail: { status: 503, pathPrefix: "/v1/chat/completions" } });
        let codes: string[] = [];
        try {
          // Each request is tried three times; the default breaker opens at 50% of 20 attempts.
          for (let i = 0; i < 12 && !codes.includes("upstream_circuit_open"); i++) {
            const err = await client.chat.completions
              .create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Anyone there?" }] })
              .then(() => null, (e: unknown) => e as { status?: number; code?: string });
            assert(err?.status === 503, `request ${i + 1} answered ${err?.status ?? 200}, not 503`);
            codes = [...codes, err.code ?? ""];
          }
        } finally {
          stack.simulator.configure({ fail: null });
        }
        assert(codes.at(-1) === "upstream_circuit_open", `the breaker never opened: ${codes.join(", ")}`);

        const row = byTestId(staff, "provider-breaker").filter({ has: staff.locator('[data-testid="breaker-provider"]', { hasText: /^openai$/ }) });
        await expectText(row.locator('[data-testid="breaker-state"]'), "Open", { what: "openai's breaker state" });
        // At or above the 50% threshold: other groups' successful OpenAI requests may still be in
        // the breaker's window, so the rate at opening is not always 100%.
        await expectText(row.locator('[data-testid="breaker-failure-rate"]'), /^\d+ of \d+ attempts failed \((?:[5-9]\d|100)%\)$/, {
          what: "failure rate at opening",
        });
        await expectText(row.locator('[data-testid="breaker-last-error"]'), "HTTP 503", { what: "last error" });
        await expectText(row.locator('[data-testid="breaker-probe-countdown"]'), /^probe in \d+ s$/, { what: "next probe" });
        await expectText(byTestId(staff, "breaker-transition").first(), "Closed → Open", { what: "latest transition" });
        await assertSameDocument(staff);
        await screenshot(staff, "40-admin-provider-breaker-open");
      },
    },
  ];
}
