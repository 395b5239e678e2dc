// The browser tests of identity provisioning: a customer pays on the simulator's hosted Stripe
// checkout, the dashboard's identity card follows each provisioning step live, Signal (the
// simulator's, with its captcha knob on) demands a captcha, the customer pastes a token through
// the SPA and the card turns green with the address and the number; then support reads the same
// steps on the account page and forces deprovisioning, which the open dashboard shows live.
import type { Page } from "playwright-core";
import { assert, expectText, screenshot, screenshotOf, type TestCase } from "./harness.ts";
import { assertSameDocument, byTestId, devSignIn, markDocument, newPage, type World } from "./browser.ts";

interface LoggedRequest {
  method: string;
  path: string;
  body: unknown;
  status: number;
}

async function simulatorRequests(world: World, pathPrefix: string): Promise<LoggedRequest[]> {
  const url = `${world.stack.simulator.url}/_sim/requests?limit=200&path=${encodeURIComponent(pathPrefix)}`;
  const response = await fetch(url);
  assert(response.ok, `the simulator's request log answered ${response.status}`);
  return ((await response.json()) as { requests: LoggedRequest[] }).requests;
}

// Provisioning runs on the workpool with real provider calls to the simulator: allow for it.
const PROVISIONING_MS = 30_000;

export function identitySpecs(world: World, { stamp, support }: { stamp: string; support: string }): TestCase[] {
  const { stack } = world;
  const customer = `ida-${stamp}@example.com`;
  const token = `signalcaptcha://signal-hcaptcha.e2e-${stamp}.registration.P1_simulated`;
  const locked = `ivy-${stamp}@example.com`;
  let page: Page;

  return [
    {
      name: "a trial's identity card says what a paid plan adds and links to billing",
      fn: async () => {
        page = await newPage(world);
        await devSignIn(page, stack.appUrl, customer, "user");
        const card = byTestId(page, "identity-card");
        await expectText(card.locator('[data-testid="empty-state"]'), /^Give your assistant its own identity.*Assistant email address.*Phone number.*Signal messaging/s, {
          what: "trial's identity card",
        });
        await byTestId(page, "identity-choose-plan").waitFor();
        await screenshotOf(card, "30-identity-card-trial");
      },
    },
    {
      name: "after checkout, the identity card shows each step live and asks for Signal's captcha",
      fn: async () => {
        // Signal demands a captcha for every registration without one, as it usually does.
        stack.simulator.configure({ signal: { requireCaptcha: true } });
        await page.goto(`${stack.appUrl}/billing`);
        await byTestId(page, "choose-basic").click();
        await page.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await page.getByRole("button", { name: "Pay and subscribe" }).click();
        await page.waitForURL(`${stack.appUrl}/billing?checkout=success`);
        await expectText(byTestId(page, "checkout-plan"), "Basic", { what: "confirmed plan" });
        await page.getByRole("link", { name: "Go to the dashboard" }).click();
        await markDocument(page);

        const card = byTestId(page, "identity-card");
        const captcha = byTestId(page, "identity-captcha");
        await captcha.waitFor({ timeout: PROVISIONING_MS });
        await expectText(byTestId(page, "identity-status"), "Needs you", { what: "identity badge while the captcha is due" });
        // Email and number are done; Signal's registration waits for the person.
        const steps = byTestId(page, "identity-step");
        for (const label of ["Creating email account", "Provisioning phone number"]) {
          await expectText(steps.filter({ hasText: label }), new RegExp(`${label}, done`), { what: `step "${label}"` });
        }
        await expectText(steps.filter({ hasText: "Registering Signal" }), /Registering Signal, waiting for you to solve a captcha/, {
          what: "Signal's step",
        });
        await expectText(byTestId(page, "identity-progress"), /^\d+ of \d+ steps done$/, { what: "progress line" });
        const link = byTestId(page, "identity-captcha-link");
        const href = await link.getAttribute("href");
        assert(href?.startsWith("https://signalcaptchas.org/"), `the captcha link goes to ${href}`);
        // The number exists already: the card shows it with its copy button before Signal is done.
        await expectText(byTestId(page, "identity-phone"), /^\+1\d{10}$/, { what: "number before Signal" });
        await assertSameDocument(page);
        await screenshotOf(card, "31-identity-card-captcha");
      },
    },
    {
      name: "a wrong paste is caught in the page; the token submitted through the SPA turns the card green live",
      fn: async () => {
        const captcha = byTestId(page, "identity-captcha");
        const field = captcha.getByLabel("Captcha token");
        await field.fill("https://signalcaptchas.org/registration/generate.html");
        await captcha.getByRole("button", { name: "Submit token" }).click();
        await expectText(byTestId(page, "identity-captcha-invalid"), /must start with signalcaptcha:\/\//, { what: "client-side check" });
        assert((await field.getAttribute("aria-invalid")) === "true", "the field is not marked invalid");
        const before = await simulatorRequests(world, "/v1/register/");
        assert(
          before.every((r) => (r.body as { captcha?: string } | null)?.captcha === undefined),
          "a registration carried a captcha before one was submitted",
        );
        await screenshotOf(byTestId(page, "identity-card"), "32-identity-card-captcha-invalid");

        await field.fill(token);
        await captcha.getByRole("button", { name: "Submit token" }).click();
        await expectText(byTestId(page, "identity-status"), "Active", { what: "identity badge", timeout: PROVISIONING_MS });
        await expectText(byTestId(page, "identity-email"), /^[^@\s]+@[^@\s]+\.[a-z]+$/, { what: "assistant's address" });
        await expectText(byTestId(page, "identity-phone"), /^\+1\d{10}$/, { what: "assistant's number" });
        await expectText(byTestId(page, "identity-signal"), /^Signal registered on \+1\d{10}$/, { what: "Signal line" });
        assert((await byTestId(page, "identity-captcha").count()) === 0, "the captcha form is still shown on an active identity");
        await assertSameDocument(page);

        // Signal got exactly the token the customer pasted, on a registration that then verified.
        const registrations = (await simulatorRequests(world, "/v1/register/")).filter((r) => r.method === "POST");
        // signal-cli-rest-api takes the token with or without its scheme; the adapter sends it bare.
        const bare = token.replace(/^signalcaptcha:\/\//, "");
        const withToken = registrations.filter((r) => [token, bare].includes((r.body as { captcha?: string } | null)?.captcha ?? ""));
        assert(withToken.length >= 1 && withToken.some((r) => r.status === 201), `no accepted registration carried the token: ${JSON.stringify(registrations.map((r) => [r.path, r.status]))}`);
        assert(registrations.some((r) => /\/verify\//.test(r.path) && r.status === 201), "Signal's verification was never called");
        await screenshotOf(byTestId(page, "identity-card"), "33-identity-card-active");
        await screenshot(page, "34-dashboard-identity-active");
      },
    },
    {
      name: "support reads every identity step with attempts and timings, and a forced deprovisioning reaches the dashboard live",
      fn: async () => {
        stack.simulator.configure({ signal: { requireCaptcha: false } });
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("link", { name: "Admin console" }).click();
        await staff.getByLabel("Search by email").fill(customer);
        await staff.getByRole("link", { name: customer }).click();
        const section = byTestId(staff, "support-identity");
        await expectText(byTestId(staff, "support-identity-phase"), "Active", { what: "identity phase" });
        const rows = byTestId(staff, "support-identity-step");
        await expectText(rows.filter({ hasText: "workspace_user" }), /Creating email account.*Done/s, { what: "email step" });
        await expectText(rows.filter({ hasText: "signal_register" }), /Registering Signal.*Done/s, { what: "Signal step" });
        await expectText(rows.filter({ hasText: "signal_verify" }), /Verifying Signal.*Done/s, { what: "verify step" });
        const statuses = (await byTestId(staff, "support-identity-step-status").allTextContents()).map((t) => t.trim());
        assert(statuses.length >= 7 && statuses.every((s) => s.startsWith("Done")), `step statuses: ${statuses.join(", ")}`);
        const attempts = (await byTestId(staff, "support-identity-step-attempts").allTextContents()).map(Number);
        assert(attempts.every((n) => Number.isInteger(n) && n >= 1), `attempts per step: ${attempts.join(", ")}`);
        const durations = (await byTestId(staff, "support-identity-step-duration").allTextContents()).map((t) => t.trim());
        assert(durations.length >= 7 && durations.every((d) => /^\d/.test(d)), `durations: ${durations.join(", ")}`);
        await expectText(byTestId(staff, "support-identity-email"), /@/, { what: "address on the support page" });
        await screenshotOf(section, "35-admin-identity-steps");

        await markDocument(page);
        await section.getByLabel("Reason").last().fill("browser test: customer asked to leave");
        await section.getByRole("button", { name: "Deprovision" }).click();
        await expectText(section.locator('[role="status"]'), "Deprovisioning started.", { what: "deprovision outcome" });
        await expectText(byTestId(staff, "support-identity-phase"), /^(Deprovisioning|Deprovisioned)$/, { what: "phase after the action" });
        await expectText(byTestId(staff, "audit-log"), /browser test: customer asked to leave/, { what: "audit log" });
        await expectText(byTestId(page, "identity-explanation"), /being removed|was removed/, { what: "customer's card", timeout: PROVISIONING_MS });
        await assertSameDocument(page);
        await screenshotOf(section, "36-admin-identity-deprovisioning");
        await screenshotOf(byTestId(page, "identity-card"), "37-identity-card-deprovisioning");
      },
    },
    {
      name: "Signal's lockout: 'try again at' with the retry button closed until then, opening by itself; the retry finishes the identity",
      fn: async () => {
        const other = await newPage(world);
        await devSignIn(other, stack.appUrl, locked, "user");
        // Signal answers the first registration with its 429, as signal-cli words it, and a retry-after.
        stack.simulator.configure({
          signal: { requireCaptcha: false },
          fail: { status: 429, count: 1, pathPrefix: "/v1/register/", retryAfterSeconds: 4, message: "[429] Rate limit exceeded" },
        });
        await other.goto(`${stack.appUrl}/billing`);
        await byTestId(other, "choose-basic").click();
        await other.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await other.getByRole("button", { name: "Pay and subscribe" }).click();
        await other.waitForURL(`${stack.appUrl}/billing?checkout=success`);
        await other.getByRole("link", { name: "Go to the dashboard" }).click();
        await markDocument(other);

        const lockout = byTestId(other, "identity-retry-after");
        await expectText(lockout, /Signal asked us to wait.*Try again at [A-Z][a-z]{2} \d{1,2}, \d{4}/s, {
          what: "lockout notice",
          timeout: PROVISIONING_MS,
        });
        const button = byTestId(other, "identity-retry-button");
        await expectText(button, "Try again (not yet)", { what: "retry button before notBefore" });
        assert(await button.isDisabled(), "the retry button is enabled before Signal's lockout ends");
        await expectText(byTestId(other, "identity-explanation"), /waiting for Signal's lockout to end/, { what: "paused explanation" });
        await screenshotOf(byTestId(other, "identity-card"), "38-identity-card-retry-after");

        // The button opens at notBefore on its own: no reload, no polling of the backend.
        await expectText(button, "Try again now", { what: "retry button after notBefore", timeout: 10_000 });
        assert(await button.isEnabled(), "the retry button stays disabled after the lockout ended");
        await button.click();
        await expectText(byTestId(other, "identity-status"), "Active", { what: "identity after the retry", timeout: PROVISIONING_MS });
        await expectText(byTestId(other, "identity-signal"), /^Signal registered on \+1\d{10}$/, { what: "Signal after the retry" });
        await assertSameDocument(other);
        const registrations = (await simulatorRequests(world, "/v1/register/")).filter((r) => r.method === "POST" && !/\/verify\//.test(r.path));
        assert(registrations.some((r) => r.status === 429), "Signal never answered 429");
      },
    },
  ];
}
