// The browser tests of short-lived credentials: a customer issues a provider credential on the
// Keys page (shown once) and uses it with the `openai` SDK; the dashboard's "Try it" box calls
// the proxy with a browser session token and the live usage meter moves; support revokes the
// credential with a reason from the account page, the SDK gets 401 at once and the customer's
// card empties live. Self-contained (E2E_ONLY=credentials runs it alone).
import OpenAI from "openai";
import { getFunctionName } from "convex/server";
import type { Page } from "playwright-core";
import { internal } from "../../convex/_generated/api.js";
import { assert, expectText, screenshot, type TestCase } from "./harness.ts";
import { assertSameDocument, byTestId, devSignIn, markDocument, newPage, type World } from "./browser.ts";

export function credentialSpecs(world: World, stamp: string): TestCase[] {
  const { stack } = world;
  const customer = `creds-${stamp}@example.com`;
  const support = `creds-support-${stamp}@example.com`;
  let page: Page;
  let token = "";
  const sdk = (apiKey: string) => new OpenAI({ apiKey, baseURL: `${stack.siteUrl}/v1`, maxRetries: 0 });

  return [
    {
      name: "a customer issues a provider credential on the Keys page, sees it once, and the openai SDK works with it",
      fn: async () => {
        page = await newPage(world);
        await devSignIn(page, stack.appUrl, customer, "user");
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Keys" }).click();
        const card = byTestId(page, "credentials-card");
        await card.getByText("No credentials yet").waitFor();
        await markDocument(page);
        await card.getByLabel("Provider", { exact: true }).selectOption("openai");
        await card.getByLabel("Chat").check();
        await byTestId(page, "credential-issue").click();
        token = await expectText(byTestId(page, "credential-revealed").locator('[data-testid="key-secret"]'), /^pdx_pc_[0-9A-Za-z]{59}$/, {
          what: "the new credential",
        });
        await expectText(card.locator('[data-testid="credential-status"]'), "Active", { what: "the credential's status" });
        await screenshot(page, "50-keys-provider-credential");
        const chat = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Hello from a credential" }] });
        assert((chat.usage?.total_tokens ?? 0) > 0, "the credential's request reported no usage");
        // Scoped to chat: embeddings are refused with OpenAI's 403.
        const refused = await sdk(token).embeddings.create({ model: "text-embedding-3-small", input: "x" }).then(() => null, (e: { status?: number }) => e);
        assert(refused?.status === 403, `embeddings with a chat-only credential answered ${refused?.status ?? 200}, not 403`);
        await card.getByRole("button", { name: "Done" }).click();
        await assertSameDocument(page);
      },
    },
    {
      name: "the dashboard's Try it box answers through the proxy with a session token, and the usage meter moves live",
      fn: async () => {
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Dashboard" }).click();
        const meter = byTestId(page, "usage-meter");
        await meter.getByText(/token/i).first().waitFor();
        const before = (await meter.textContent())?.trim() ?? "";
        await markDocument(page);
        const box = byTestId(page, "try-it");
        await byTestId(page, "try-send").click();
        await expectText(byTestId(page, "try-error"), "Type a prompt first.", { what: "the empty prompt's message" });
        await box.getByRole("textbox", { name: "Prompt" }).fill("Say hello to the dashboard.");
        await byTestId(page, "try-send").click();
        await expectText(byTestId(page, "try-answer-usage"), /^gpt-[\w.-]+: \d[\d.,KM]* tokens? in, \d[\d.,KM]* tokens? out$/, { what: "the answer's tokens", timeout: 20_000 });
        const answer = (await byTestId(page, "try-answer-text").textContent())?.trim() ?? "";
        assert(answer.length > 0, "the answer is empty");
        const deadline = Date.now() + 20_000;
        let after = before;
        while (after === before && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          after = (await meter.textContent())?.trim() ?? "";
        }
        assert(after !== before, `the usage meter did not move after the Try it request: ${before}`);
        await assertSameDocument(page);
        await screenshot(page, "51-dashboard-try-it");
      },
    },
    {
      name: "support revokes the credential with a reason: the SDK gets 401 at once and the customer's card empties live",
      fn: async () => {
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        const { id } = (await stack.runtime.run("query", getFunctionName(internal.cli.showAccount), { email: customer })) as { id: string };
        await staff.goto(`${stack.appUrl}/admin/accounts/${id}`);
        const panel = byTestId(staff, "credentials-support");
        await expectText(panel.locator('[data-testid="support-credential-status"]'), /^Active/, { what: "support's view of the credential" });
        // The customer is still on the Keys page, to watch it change without a reload.
        await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Keys" }).click();
        await expectText(byTestId(page, "credential-status"), "Active", { what: "the customer's credential" });
        await markDocument(page);

        await staff.locator("#credential-revoke-reason").fill("Key posted in a public repository");
        await panel.getByRole("button", { name: "Revoke" }).click();
        await expectText(panel.locator('[data-testid="support-credential-status"]'), /^RevokedKey posted in a public repository$/, { what: "the revoked credential" });
        const err = await sdk(token).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Still there?" }] })
          .then(() => null, (e: { status?: number; code?: string }) => e);
        assert(err?.status === 401 && err.code === "credential_revoked", `a revoked credential answered ${err?.status ?? 200} ${err?.code ?? ""}`);
        await byTestId(page, "credentials-card").getByText("No credentials yet").waitFor();
        await assertSameDocument(page);
        await screenshot(staff, "52-admin-credential-revoked");
        // The audit log names the reason.
        const report = (await stack.runtime.run("query", getFunctionName(internal.cli.showAccount), { email: customer })) as {
          audit: Array<{ action: string; actor: string; reason: string | null }>;
        };
        const entry = report.audit.find((a) => a.action === "credential.revoked");
        assert(entry?.reason === "Key posted in a public repository" && entry.actor === support, `audit: ${JSON.stringify(entry)}`);
      },
    },
    {
      name: "support sees the master provider keys by id only and switches the active one with a reason",
      fn: async () => {
        const staff = await newPage(world);
        await devSignIn(staff, stack.appUrl, support, "support");
        await staff.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "AI providers" }).click();
        const card = byTestId(staff, "master-keys");
        const openai = card.locator('[data-testid="master-key-row"]').filter({ hasText: "OpenAI" });
        await expectText(openai, /^OpenAIdefault \(active\)\s*env \(default\)—$/, { what: "OpenAI's keyring" });
        const text = (await card.textContent()) ?? "";
        assert(!/sk-|xi-sim|gemini-sim/.test(text), `a key value is on the page: ${text}`);
        await markDocument(staff);
        await staff.locator("#master-key-provider").selectOption("openai");
        await staff.locator("#master-key-reason").fill("Quarterly key rotation drill");
        await card.getByRole("button", { name: "Switch" }).click();
        await expectText(card.getByRole("status"), "OpenAI now uses key 'default' for new requests.", { what: "the switch's outcome" });
        await expectText(openai, /^OpenAIdefault \(active\)\s*creds-support-/, { what: "who chose the key" });
        await assertSameDocument(staff);
        await screenshot(staff, "53-admin-master-keys");
        // The proxy still answers with the (same) active key.
        const { secret } = (await stack.runtime.run("mutation", getFunctionName(internal.cli.createApiKey), { email: customer })) as { secret: string };
        const chat = await sdk(secret).chat.completions.create({ model: "gpt-4o-mini", messages: [{ role: "user", content: "Still fine?" }] });
        assert((chat.usage?.total_tokens ?? 0) > 0, "no usage after the switch");
      },
    },
  ];
}
