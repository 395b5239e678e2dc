// What every browser test does with a page: open one, sign in on the dev screen, find elements
// by test id, and prove a change arrived live (the document was never reloaded).
import type { Browser, BrowserContext, Page } from "playwright-core";
import { assert } from "./harness.ts";
import type { Stack } from "./stack.ts";

export interface World {
  stack: Stack;
  browser: Browser;
  /** Pages still open, screenshotted when a test fails. */
  pages: Page[];
}

export type Role = "user" | "support" | "admin";

export const byTestId = (page: Page, id: string) => page.locator(`[data-testid="${id}"]`);

export async function newPage(world: World, context?: BrowserContext): Promise<Page> {
  const ctx = context ?? (await world.browser.newContext({ viewport: { width: 1280, height: 860 } }));
  const page = await ctx.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (err) => console.log(`      [page error] ${err.message}`));
  world.pages.push(page);
  return page;
}

/** Signs in on the dev screen; says where that landed: the app, the onboarding screen of a new
 * account, or the refusal of a signup. */
export async function submitDevSignIn(page: Page, appUrl: string, email: string, role: Role): Promise<"app" | "onboarding" | "refused"> {
  await page.goto(appUrl);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Role").selectOption(role);
  await page.getByRole("button", { name: "Sign in" }).click();
  const app = byTestId(page, "account-email");
  const onboarding = byTestId(page, "onboarding");
  const refused = byTestId(page, "signup-refused");
  await app.or(onboarding).or(refused).first().waitFor();
  if ((await onboarding.count()) > 0) return "onboarding";
  if ((await refused.count()) > 0) return "refused";
  return "app";
}

/** Signs in and, for a new account, continues past the onboarding screen to the dashboard. */
export async function devSignIn(page: Page, appUrl: string, email: string, role: Role) {
  if ((await submitDevSignIn(page, appUrl, email, role)) === "onboarding") {
    await page.getByRole("button", { name: "I've saved it, continue" }).click();
  }
  await byTestId(page, "account-email").waitFor();
}

export const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Marks the document so a later check can prove the page was never reloaded. */
export async function markDocument(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __e2eMark: string }).__e2eMark = "same-document";
  });
}

export async function assertSameDocument(page: Page): Promise<void> {
  const mark = await page.evaluate(() => (window as unknown as { __e2eMark?: string }).__e2eMark);
  assert(mark === "same-document", "the page was reloaded; the change should have arrived live");
}
