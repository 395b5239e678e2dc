// The SDK against the real offline runtime over HTTP: connect with loopback PKCE (the consent
// page's approval made as the SPA makes it, the redirect followed as a browser follows it), the
// Dex API called with the OAuth token, refresh before expiry and on a 401, the device flow, the
// CLI's output and exit codes, and disconnect.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { getFunctionName } from "convex/server";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { api, internal } from "../convex/_generated/api.js";
import { startRuntime, type Runtime } from "../dev/runtime/server";
import { startSimulator, type RunningSimulator } from "../dev/simulator/server";
import { devEnv } from "../dev/env";
import { DexClient, ROUTES } from "./api";
import { main } from "./cli";
import { DexApiError, NotConnectedError, OAuthError } from "./errors";
import { connect, connectDevice, disconnect } from "./oauth";
import { defaultStore, type StoredTokens } from "./tokenStore";

vi.setConfig({ testTimeout: 60_000 });

const EMAIL = "sdk-owner@example.com";
let rt: Runtime;
let sim: RunningSimulator;
let dir: string;
let owner: ConvexHttpClient;

beforeAll(async () => {
  sim = await startSimulator({ port: 0, useEnv: false });
  dir = mkdtempSync(path.join(tmpdir(), "dex-sdk-"));
  rt = await startRuntime({ port: 0, sitePort: 0, dataDir: dir, persist: false, readEnvLocal: false, quiet: true, env: devEnv(dir, sim.url, "http://127.0.0.1:5999") });
  // Telnyx's webhooks (Signal's SMS code) reach this backend, so the identity finishes provisioning.
  sim.connectWebhooks(rt.urls.site);
  await rt.run("mutation", getFunctionName(internal.cli.createAccount), { email: EMAIL, plan: "basic" });
  const res = await fetch(`${rt.urls.site}/dev-auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email: EMAIL, role: "user" }),
  });
  const { token } = (await res.json()) as { token: string };
  owner = new ConvexHttpClient(rt.urls.cloud);
  owner.setAuth(token);
  await owner.mutation(api.signup.account.ensure, {});
}, 120_000);

afterAll(async () => {
  await rt?.close();
  await sim?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** What the person's browser does with the /connect URL: the page's Authorize, then the redirect. */
async function approveInBrowser(connectUrl: string): Promise<Response> {
  const params = Object.fromEntries(new URL(connectUrl).searchParams);
  const { redirectUrl } = await owner.mutation(api.oauth.consent.approve, { params });
  return await fetch(redirectUrl);
}

function home(name: string) {
  return path.join(dir, name);
}

async function connected(name: string, instance: string): Promise<{ store: ReturnType<typeof defaultStore>; tokens: StoredTokens }> {
  const store = defaultStore(home(name), {});
  const tokens = await connect({ issuer: rt.urls.site, clientId: instance, store, onUrl: async (url) => void (await approveInBrowser(url)) });
  return { store, tokens };
}

describe("the Dex SDK against the offline runtime", () => {
  it("connects with loopback PKCE, checking state and iss on the redirect, and calls the Dex API with the token", async () => {
    const store = defaultStore(home("a"), {});
    let seen = "";
    const tokens = await connect({
      issuer: rt.urls.site,
      clientId: "dex-sdktest1",
      store,
      onUrl: async (url) => {
        seen = url;
        const u = new URL(url);
        const callback = new URL(u.searchParams.get("redirect_uri")!);
        // A forged callback (wrong state) and one from another issuer are refused and do not end the wait.
        const forged = await fetch(`${callback.href}?code=pdx_ac_x&state=not-ours&iss=${encodeURIComponent(rt.urls.site)}`);
        expect(forged.status).toBe(400);
        const otherIssuer = await fetch(`${callback.href}?code=pdx_ac_x&state=${u.searchParams.get("state")}&iss=${encodeURIComponent("https://evil.example")}`);
        expect(otherIssuer.status).toBe(400);
        const res = await approveInBrowser(url);
        expect(res.status).toBe(200);
        expect(await res.text()).toContain("Connected");
      },
    });
    const u = new URL(seen);
    expect(u.origin + u.pathname).toBe("http://127.0.0.1:5999/connect");
    expect(u.searchParams.get("client_id")).toBe("dex-sdktest1");
    expect(u.searchParams.get("code_challenge_method")).toBe("S256");
    expect(u.searchParams.get("code_challenge")).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(u.searchParams.get("redirect_uri")).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(tokens).toMatchObject({ issuer: rt.urls.site, clientId: "dex-sdktest1", scope: "identity email signal calendar ai usage" });
    expect(tokens.accessToken).toMatch(/^pdx_at_/);
    expect(await store.load()).toEqual(tokens);

    const client = new DexClient({ store });
    const identity = await client.identity().catch((e: unknown) => e);
    // A basic account has an identity (provisioning on the simulator, or done).
    if (identity instanceof DexApiError) throw new Error(`GET /v1/identity with the OAuth token: ${identity.status} ${identity.code} ${identity.message}`);
    expect(identity).toMatchObject({ object: "identity", features: { email: true, phone: true, signal: true } });
    const usage = await client.usage();
    expect(usage).toMatchObject({ plan: "basic", month: expect.stringMatching(/^\d{4}-\d{2}$/) });
    const left = await client.remaining();
    expect(left.includedTokens).toBeGreaterThan(0);
    // API keys are for API keys only: a connected instance is refused with a typed error.
    const keys = await client.apiKeys().catch((e: unknown) => e);
    expect(keys).toBeInstanceOf(DexApiError);
    expect((keys as DexApiError).status).toBe(403);
  });

  it("refreshes before expiry and once on a 401, storing the rotated pair", async () => {
    const { store, tokens } = await connected("b", "dex-sdktest2");
    const client = new DexClient({ store });
    // Within the minute before expiry: the next call refreshes first.
    await store.save({ ...tokens, expiresAt: Date.now() + 30_000 });
    await client.usage();
    const afterExpiry = (await store.load())!;
    expect(afterExpiry.refreshToken).not.toBe(tokens.refreshToken);
    expect(afterExpiry.accessToken).not.toBe(tokens.accessToken);
    expect(afterExpiry.expiresAt).toBeGreaterThan(Date.now() + 3_000_000);

    // An access token the server no longer knows, though the clock says it is fresh: 401, refresh, retry.
    await store.save({ ...afterExpiry, accessToken: "pdx_at_" + "x".repeat(43) });
    expect((await client.usage()).plan).toBe("basic");
    const after401 = (await store.load())!;
    expect(after401.refreshToken).not.toBe(afterExpiry.refreshToken);

    // Concurrent calls in one process share one refresh.
    await store.save({ ...after401, expiresAt: Date.now() });
    await Promise.all([client.usage(), client.remaining(), client.usage()]);
    const shared = (await store.load())!;
    expect(shared.refreshToken).not.toBe(after401.refreshToken);
  });

  it("disconnect revokes the grant; a revoked refresh token means NotConnectedError", async () => {
    const { store, tokens } = await connected("c", "dex-sdktest3");
    expect(await disconnect(store)).toBe(true);
    expect(await store.load()).toBeNull();
    const client = new DexClient({ store });
    await expect(client.identity()).rejects.toBeInstanceOf(NotConnectedError);
    // The old pair, put back, no longer works: the access token is refused and so is its refresh.
    await store.save(tokens);
    await expect(client.usage()).rejects.toBeInstanceOf(NotConnectedError);
  });

  it("a Cancel on the consent page ends connect with access_denied", async () => {
    const store = defaultStore(home("d"), {});
    const refused = await connect({
      issuer: rt.urls.site,
      clientId: "dex-sdktest4",
      store,
      onUrl: async (url) => {
        const { redirectUrl } = await owner.mutation(api.oauth.consent.deny, { params: Object.fromEntries(new URL(url).searchParams) });
        await fetch(redirectUrl);
      },
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OAuthError);
    expect((refused as OAuthError).code).toBe("access_denied");
    expect(await store.load()).toBeNull();
  });

  it("connects with the device flow once the code is approved", async () => {
    const store = defaultStore(home("e"), {});
    const tokens = await connectDevice({
      issuer: rt.urls.site,
      clientId: "dex-sdktest5",
      store,
      scope: "identity usage",
      onCode: async ({ userCode, verificationUri }) => {
        expect(verificationUri).toBe("http://127.0.0.1:5999/device");
        await owner.mutation(api.oauth.device.decide, { userCode, approve: true });
      },
    });
    expect(tokens.scope).toBe("identity usage");
    expect((await new DexClient({ store }).usage()).plan).toBe("basic");
  });

  it("every typed method reaches its endpoint with the OAuth token once the identity is active", async () => {
    const { store } = await connected("h", "dex-sdktest7");
    const client = new DexClient({ store });
    const deadline = Date.now() + 40_000;
    let identity = await client.identity();
    while (identity.status !== "active" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      identity = await client.identity();
    }
    const status = await client.identityStatus();
    expect(identity.status, JSON.stringify(status)).toBe("active");
    expect(status.steps.every((s) => s.status === "done" || s.status === "skipped")).toBe(true);
    const address = identity.email!.address!;
    expect(await client.identityEmail()).toEqual({ object: "identity.email", address, ready: true });
    expect(await client.identityPhone()).toMatchObject({ object: "identity.phone", number: identity.phone!.number });
    expect(await client.identitySignal()).toMatchObject({ object: "identity.signal", status: "verified" });

    // Email: send to the identity's own mailbox, list it, read it, delete it.
    const sent = await client.sendEmail({ to: [address], subject: "SDK round trip", text: "Hello from the SDK." });
    expect(sent).toMatchObject({ object: "email.sent", from: expect.stringContaining(address) });
    const inbox = await client.inbox({ limit: 10 });
    expect(inbox.object).toBe("list");
    const mine = inbox.data.find((m) => m.subject === "SDK round trip");
    expect(mine, JSON.stringify(inbox)).toBeDefined();
    expect((await client.email(mine!.id)).text).toContain("Hello from the SDK.");
    expect(await client.deleteEmail(mine!.id)).toMatchObject({ deleted: true });
    // Signal and SMS.
    expect(await client.sendSignal({ recipients: ["+12025550123"], message: "hi" })).toMatchObject({ object: "signal.sent" });
    expect((await client.signalMessages()).object).toBe("list");
    expect((await client.signalContacts()).object).toBe("list");
    expect((await client.smsMessages({ limit: 5 })).object).toBe("list");
    // Calendar: create, update, list, delete.
    const event = { summary: "Standup", start: { date_time: "2026-12-01T09:00:00Z" }, end: { date_time: "2026-12-01T09:15:00Z" } };
    const created = await client.createCalendarEvent(event);
    expect(created).toMatchObject({ object: "calendar.event", summary: "Standup" });
    expect(await client.updateCalendarEvent(created.id, { ...event, summary: "Standup (moved)" })).toMatchObject({ summary: "Standup (moved)" });
    expect((await client.calendarEvents({ time_min: "2026-12-01T00:00:00Z", time_max: "2026-12-02T00:00:00Z" })).data.map((e) => e.id)).toContain(created.id);
    expect(await client.deleteCalendarEvent(created.id)).toMatchObject({ deleted: true });
    // Bad input is a typed 400 with the parameter named.
    const bad = await client.sendEmail({ to: ["not an address"], subject: "x", text: "y" }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(DexApiError);
    expect((bad as DexApiError).status).toBe(400);
  });

  it("refusals reach the SDK as typed errors: a scope the grant lacks, the plan's rate limit", async () => {
    // An instance connected for usage only may read usage, not the identity.
    const store = defaultStore(home("scoped"), {});
    const tokens = await connect({ issuer: rt.urls.site, clientId: "dex-sdkscope", scope: "usage", store, onUrl: async (url) => void (await approveInBrowser(url)) });
    expect(tokens.scope).toBe("usage");
    const scoped = new DexClient({ store });
    expect((await scoped.usage()).plan).toBe("basic");
    const refused = await scoped.identity().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DexApiError);
    expect([(refused as DexApiError).status, (refused as DexApiError).code]).toEqual([403, "insufficient_scope"]);

    // Basic sends 20 Signal messages a minute (model/dexApi/limits.ts); the next one is a typed 429.
    const { store: full } = await connected("limited", "dex-sdklimit");
    const client = new DexClient({ store: full });
    let limited: unknown = null;
    for (let i = 0; i < 25 && limited === null; i++) {
      limited = await client.sendSignal({ recipients: ["+12025550123"], message: `burst ${i}` }).then(() => null, (e: unknown) => e);
    }
    expect(limited).toBeInstanceOf(DexApiError);
    expect([(limited as DexApiError).status, (limited as DexApiError).code]).toEqual([429, "rate_limit_exceeded"]);
  });

  it("covers every endpoint the OpenAPI document lists for instances (AI proxy and billing aside)", async () => {
    const doc = (await (await fetch(`${rt.urls.site}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, { tags?: string[] }>> };
    const listed: string[] = [];
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const tag = op.tags?.[0] ?? "";
        if (["get", "post", "put", "delete"].includes(method) && tag !== "AI" && tag !== "Meta" && !p.startsWith("/v1/billing/")) listed.push(`${method.toUpperCase()} ${p}`);
      }
    }
    // What DexClient's methods call (api.ts ROUTES); a new endpoint on the server fails this until the SDK has it.
    const sdk: string[] = Object.values(ROUTES);
    expect(listed.sort()).toEqual([...sdk].sort());
  });

  it("the CLI prints the identity and usage, with exit codes for not connected and bad usage", async () => {
    const lines: string[] = [];
    const errors: string[] = [];
    const io = (env: NodeJS.ProcessEnv) => ({ out: (l: string) => lines.push(l), err: (l: string) => errors.push(l), env });
    // `connect --device`: the CLI shows the code; the person approves it on /device.
    let approval: Promise<unknown> = Promise.resolve();
    const deviceIo = {
      ...io({ DEX_HOME: home("f") }),
      out: (l: string) => {
        lines.push(l);
        const code = l.match(/enter the code ([A-Z]{4}-[A-Z]{4})$/)?.[1];
        if (code) approval = owner.mutation(api.oauth.device.decide, { userCode: code, approve: true });
      },
    };
    expect(await main(["connect", "--device", "--url", rt.urls.site, "--instance", "dex-sdktest6"], deviceIo)).toBe(0);
    await approval;
    expect(lines).toContain(`Connected dex-sdktest6 to ${rt.urls.site} (identity email signal calendar ai usage).`);
    lines.length = 0;
    expect(await main(["identity"], io({ DEX_HOME: home("f") }))).toBe(0);
    expect(lines.join("\n")).toMatch(/^Identity: \w+\nEmail: +\S+\nPhone: +\S+\nSignal: +\S+/);
    lines.length = 0;
    expect(await main(["usage", "--json"], io({ DEX_HOME: home("f") }))).toBe(0);
    expect(JSON.parse(lines.join("\n"))).toMatchObject({ usage: { plan: "basic" }, remaining: { plan: "basic" } });
    expect(await main(["identity"], io({ DEX_HOME: home("nobody") }))).toBe(3);
    expect(errors.at(-1)).toMatch(/not connected/);
    expect(await main(["email", "send", "--subject", "x"], io({ DEX_HOME: home("f") }))).toBe(2);
    expect(errors.join("\n")).toMatch(/--to is required/);
    expect(await main(["connect"], io({ DEX_HOME: home("g") }))).toBe(2);
    expect(await main(["disconnect"], io({ DEX_HOME: home("f") }))).toBe(0);
    expect(await main(["identity"], io({ DEX_HOME: home("f") }))).toBe(3);
  });
});
