// The browser tests of Dex connect: a new person follows an instance's /connect link, signs up,
// chooses a plan on the simulator's hosted checkout, comes back and is connected without a second
// click; the browser then lands on the instance's loopback callback (a real listener here) with
// code, state and iss, and the code is exchanged at the token endpoint. Then the Instances page
// and Disconnect, a bad redirect URI that is shown and never followed, Cancel, and the device page.
import { createHash, randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { Page } from "playwright-core";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { byTestId, newPage, type World } from "./browser.ts";

function pkce() {
  const verifier = randomBytes(48).toString("base64url");
  return { verifier, challenge: createHash("sha256").update(verifier).digest("base64url") };
}

/** The instance's side of the redirect: a loopback listener that records each callback. */
async function loopback(): Promise<{ server: Server; port: number; callbacks: URL[] }> {
  const callbacks: URL[] = [];
  const server = createServer((req, res) => {
    callbacks.push(new URL(req.url ?? "/", "http://127.0.0.1"));
    res.writeHead(200, { "content-type": "text/html" }).end("<p data-testid='instance-callback'>Back in Dex.</p>");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  return { server, port: typeof address === "object" && address ? address.port : 0, callbacks };
}

async function tokenRequest(siteUrl: string, form: Record<string, string>) {
  const res = await fetch(`${siteUrl}/oauth/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
  return { status: res.status, body: (await res.json()) as Record<string, string | number> };
}

export function connectSpecs(world: World, { stamp }: { stamp: string }): TestCase[] {
  const { stack } = world;
  const email = `connie-${stamp}@example.com`;
  const instance = `dex-e2e${stamp}`.slice(0, 36);
  let page: Page;
  let listener: Awaited<ReturnType<typeof loopback>>;
  let redirectUri = "";
  let refreshToken = "";

  function connectUrl(challenge: string, state: string, over: Record<string, string> = {}) {
    const url = new URL("/connect", stack.appUrl);
    const params = {
      client_id: instance,
      redirect_uri: redirectUri,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      state,
      ...over,
    };
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.href;
  }

  async function landOnCallback(): Promise<URL> {
    await page.waitForURL((url) => url.href.startsWith(redirectUri));
    return new URL(page.url());
  }

  return [
    {
      name: "signup + connect: a new person signs up at /connect, checks out, and is connected on return",
      fn: async () => {
        listener = await loopback();
        redirectUri = `http://127.0.0.1:${listener.port}/callback`;
        const { verifier, challenge } = pkce();
        page = await newPage(world);
        await page.goto(connectUrl(challenge, "signup-state"));
        // Signed out: the sign-in screen at the same URL, so the request survives signup.
        await page.getByLabel("Email").fill(email);
        await page.getByLabel("Role").selectOption("user");
        await page.getByRole("button", { name: "Sign in" }).click();
        await byTestId(page, "onboarding").waitFor();
        await page.getByRole("button", { name: "I've saved it, continue" }).click();

        await expectText(byTestId(page, "connect-instance"), instance, { what: "instance on the consent page" });
        await expectText(byTestId(page, "connect-needs-plan"), /trial does not include connected instances/, { what: "plan step" });
        await expectText(byTestId(page, "connect-scopes"), /Make AI requests, metered to your account/, { what: "scopes" });
        await screenshot(page, "50-connect-needs-plan");

        await byTestId(page, "connect-choose-basic").click();
        await page.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
        await page.getByRole("button", { name: "Pay and subscribe" }).click();
        // Back on /connect; when the webhook makes the account active the request is approved by itself.
        const callback = await landOnCallback();
        assert(callback.searchParams.get("state") === "signup-state", `state came back as ${callback.searchParams.get("state")}`);
        assert(callback.searchParams.get("iss") === stack.siteUrl, `iss came back as ${callback.searchParams.get("iss")}`);
        const code = callback.searchParams.get("code") ?? "";
        assert(code.startsWith("pdx_ac_"), "the callback carries no code");

        const tokens = await tokenRequest(stack.siteUrl, {
          grant_type: "authorization_code",
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: instance,
        });
        assert(tokens.status === 200, `the token endpoint answered ${tokens.status}: ${JSON.stringify(tokens.body)}`);
        assert(tokens.body.token_type === "Bearer" && tokens.body.expires_in === 3600, "not a bearer pair for an hour");
        refreshToken = String(tokens.body.refresh_token);
      },
    },
    {
      name: "the Instances page lists the instance; Disconnect ends its tokens at once",
      fn: async () => {
        await page.goto(`${stack.appUrl}/instances`);
        const row = byTestId(page, "instance-row").filter({ hasText: instance });
        await expectText(row, /identity, email, signal, calendar, ai, usage/, { what: "instance row" });
        await screenshot(page, "51-instances");
        await row.locator('[data-testid="instance-disconnect"]').click();
        await byTestId(page, "disconnect-dialog").getByRole("button", { name: "Disconnect" }).click();
        await byTestId(page, "instances-table").or(byTestId(page, "empty-state")).first().waitFor();
        await byTestId(page, "instance-row").filter({ hasText: instance }).waitFor({ state: "detached" });
        const refreshed = await tokenRequest(stack.siteUrl, { grant_type: "refresh_token", refresh_token: refreshToken, client_id: instance });
        assert(refreshed.status === 400 && refreshed.body.error === "invalid_grant", `refresh after Disconnect: ${JSON.stringify(refreshed)}`);
      },
    },
    {
      name: "a redirect URI nobody registered is reported on the page and never followed",
      fn: async () => {
        const { challenge } = pkce();
        const url = connectUrl(challenge, "evil", { redirect_uri: "https://evil.example.com/cb" });
        await page.goto(url);
        await expectText(byTestId(page, "connect-error"), /is not a redirect address we send codes to/, { what: "error" });
        assert((await byTestId(page, "connect-return").count()) === 0, "an unvalidated redirect URI got a return button");
        assert(page.url() === url, `the page left for ${page.url()}`);
        await screenshot(page, "52-connect-bad-redirect");
      },
    },
    {
      name: "Cancel on the consent page returns access_denied with state and iss",
      fn: async () => {
        const { challenge } = pkce();
        await page.goto(connectUrl(challenge, "cancel-state"));
        await byTestId(page, "connect-authorize").waitFor();
        await screenshot(page, "53-connect-consent");
        await byTestId(page, "connect-cancel").click();
        const callback = await landOnCallback();
        assert(callback.searchParams.get("error") === "access_denied", `error came back as ${callback.searchParams.get("error")}`);
        assert(callback.searchParams.get("state") === "cancel-state", "state did not come back");
        assert(callback.searchParams.get("iss") === stack.siteUrl, "iss did not come back");
      },
    },
    {
      name: "device flow: the code link opens /device, Approve ends the instance's polling with tokens",
      fn: async () => {
        const started = await fetch(`${stack.siteUrl}/oauth/device_authorization`, {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ client_id: instance, scope: "ai usage" }).toString(),
        });
        const device = (await started.json()) as { device_code: string; user_code: string; verification_uri_complete: string };
        const poll = () => tokenRequest(stack.siteUrl, { grant_type: "urn:ietf:params:oauth:grant-type:device_code", device_code: device.device_code, client_id: instance });
        const pending = await poll();
        assert(pending.body.error === "authorization_pending", `first poll: ${JSON.stringify(pending.body)}`);

        await page.goto(device.verification_uri_complete);
        await expectText(byTestId(page, "device-instance"), instance, { what: "instance on the device page" });
        await screenshot(page, "54-device-approve");
        await byTestId(page, "device-approve").click();
        await expectText(byTestId(page, "device-done"), /is connected/, { what: "device outcome" });
        const tokens = await poll();
        assert(tokens.status === 200 && tokens.body.scope === "ai usage", `poll after approval: ${JSON.stringify(tokens)}`);
        await new Promise<void>((resolve) => listener.server.close(() => resolve()));
      },
    },
  ];
}
