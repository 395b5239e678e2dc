// The browser tests of Dex connect. First the whole seed flow: the reference CLI (client/cli.ts,
// `npm run dex -- connect`) starts connecting and prints the /connect link; a new person opens it,
// signs up, chooses a plan on the simulator's hosted checkout, comes back and is connected without
// a second click; the browser lands on the CLI's loopback listener, which checks state and iss and
// exchanges the code; the dashboard shows the identity finish provisioning; and the CLI prints the
// identity's email address and phone number. Then the Instances page and Disconnect, a bad
// redirect URI that is shown and never followed, Cancel, and the device page.
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import os from "node:os";
import path from "node:path";
import type { Page } from "playwright-core";
import { assert, expectText, screenshot, screenshotOf, type TestCase } from "./harness.ts";
import { byTestId, newPage, type World } from "./browser.ts";
import { ROOT } from "./stack.ts";
import { defaultStore } from "../../client/tokenStore.ts";

const PROVISIONING_MS = 30_000;

/** The CLI as a person runs it, in its own process, with its own DEX_HOME. */
function dexCli(args: string[], home: string): { child: ChildProcessWithoutNullStreams; output: () => string; exit: Promise<number> } {
  const child = spawn(path.join(ROOT, "node_modules", ".bin", "tsx"), [path.join(ROOT, "client", "cli.ts"), ...args], {
    cwd: ROOT,
    env: { ...process.env, DEX_HOME: home, DEX_TOKEN_PASSPHRASE: "" },
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
  const exit = new Promise<number>((resolve) => child.on("close", (code) => resolve(code ?? -1)));
  return { child, output: () => out, exit };
}

async function until<T>(check: () => T | undefined, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
  let dexHome = "";

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
      name: "seed flow: the CLI's connect link, signup, checkout, auto-approval, provisioning, and the CLI prints the identity",
      fn: async () => {
        listener = await loopback();
        redirectUri = `http://127.0.0.1:${listener.port}/callback`;
        dexHome = mkdtempSync(path.join(os.tmpdir(), "dex-cli-e2e-"));
        // Step 1: "Connect to Poindexter Cloud" in Dex: the CLI listens on loopback and prints the link.
        const cli = dexCli(["connect", "--url", stack.siteUrl, "--instance", instance, "--no-open"], dexHome);
        try {
          const link = await until(() => cli.output().match(/^(http:\/\/\S+\/connect\?\S+)$/m)?.[1], "the CLI's connect link");
          const linkUrl = new URL(link);
          assert(linkUrl.origin === stack.appUrl, `the link goes to ${linkUrl.origin}, not the app`);
          assert(linkUrl.searchParams.get("client_id") === instance, "the link names another client_id");
          assert(linkUrl.searchParams.get("code_challenge_method") === "S256", "the link carries no S256 challenge");
          assert(/^http:\/\/127\.0\.0\.1:\d+\/callback$/.test(linkUrl.searchParams.get("redirect_uri") ?? ""), "the redirect is not a loopback listener");

          // Step 2: signed out, the sign-in (signup) screen at the same URL, so the request survives signup.
          page = await newPage(world);
          await page.goto(link);
          await page.getByLabel("Email").fill(email);
          await page.getByLabel("Role").selectOption("user");
          await page.getByRole("button", { name: "Sign in" }).click();
          await byTestId(page, "onboarding").waitFor();
          await page.getByRole("button", { name: "I've saved it, continue" }).click();

          // Step 3: no plan yet: the consent page names the instance and asks for a plan.
          await expectText(byTestId(page, "connect-instance"), instance, { what: "instance on the consent page" });
          await expectText(byTestId(page, "connect-needs-plan"), /trial does not include connected instances/, { what: "plan step" });
          await expectText(byTestId(page, "connect-scopes"), /Make AI requests, metered to your account/, { what: "scopes" });
          await screenshot(page, "50-connect-needs-plan");

          // Step 4: the simulator's hosted checkout.
          await byTestId(page, "connect-choose-basic").click();
          await page.waitForURL((url) => url.href.startsWith(`${stack.simulator.url}/_sim/stripe/checkout/cs_`));
          await page.getByRole("button", { name: "Pay and subscribe" }).click();

          // Step 6: back on /connect, approved without a second click once the plan is active; the
          // browser lands on the CLI's listener, which checks state and iss and exchanges the code.
          await page.waitForURL((url) => url.href.startsWith(linkUrl.searchParams.get("redirect_uri")!));
          await expectText(page.locator('[data-testid="dex-callback-title"]'), "Connected", { what: "the CLI's callback page" });
          await screenshot(page, "55-connect-cli-callback");
          const code = await cli.exit;
          assert(code === 0, `dex connect exited ${code}:\n${cli.output()}`);
          assert(cli.output().includes(`Connected ${instance} to ${stack.siteUrl} (identity email signal calendar ai usage).`), `dex connect said:\n${cli.output()}`);
        } finally {
          if (cli.child.exitCode === null) cli.child.kill();
        }

        // Step 5: provisioning, as the dashboard's identity card shows it, until active.
        await page.goto(stack.appUrl);
        await expectText(byTestId(page, "identity-status"), "Active", { what: "identity badge", timeout: PROVISIONING_MS });
        const address = await expectText(byTestId(page, "identity-email"), /^[^@\s]+@[^@\s]+\.[a-z]+$/, { what: "assistant's address" });
        const phone = await expectText(byTestId(page, "identity-phone"), /^\+1\d{10}$/, { what: "assistant's number" });
        await screenshotOf(byTestId(page, "identity-card"), "56-connect-identity-active");

        // Step 7: Dex fetches the identity with its OAuth token: the same address and number.
        const identity = dexCli(["identity"], dexHome);
        const code = await identity.exit;
        assert(code === 0, `dex identity exited ${code}:\n${identity.output()}`);
        const printed = identity.output();
        assert(new RegExp(`^Identity: active$`, "m").test(printed), `dex identity printed:\n${printed}`);
        assert(printed.includes(`Email:    ${address}`), `dex identity printed no ${address}:\n${printed}`);
        assert(printed.includes(`Phone:    ${phone}`), `dex identity printed no ${phone}:\n${printed}`);
        console.log(`      dex identity:\n${printed.replace(/^/gm, "        ").trimEnd()}`);
        // The tokens are on disk only sealed; the next test uses the refresh token after Disconnect.
        const stored = await defaultStore(dexHome, {}).load();
        assert(stored !== null && stored.refreshToken.startsWith("pdx_rt_"), "the CLI stored no refresh token");
        refreshToken = stored.refreshToken;
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
        // The CLI finds out on its next call: not connected (exit 3), connect again.
        const after = dexCli(["identity"], dexHome);
        const code = await after.exit;
        assert(code === 3 && /no longer connected|Connect the instance again|not connected/i.test(after.output()), `dex identity after Disconnect: ${code} ${after.output()}`);
        rmSync(dexHome, { recursive: true, force: true });
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
