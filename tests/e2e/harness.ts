// A deliberately small test runner for the browser tests: named tests run in order,
// each failure is recorded with a screenshot, and the summary line is what CI reads.
import type { Locator, Page } from "playwright-core";
import { mkdirSync } from "node:fs";
import path from "node:path";

export const SCREENSHOT_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), "screenshots");

export interface TestCase {
  name: string;
  fn: () => Promise<void>;
}

export class AssertionError extends Error {}

export interface Outcome {
  name: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export async function runTests(
  tests: TestCase[],
  onFailure: (test: TestCase, index: number) => Promise<void>,
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const [i, test] of tests.entries()) {
    const started = performance.now();
    try {
      await test.fn();
      const ms = Math.round(performance.now() - started);
      outcomes.push({ name: test.name, ok: true, ms });
      console.log(`  ✓ ${test.name} (${ms} ms)`);
    } catch (err) {
      const ms = Math.round(performance.now() - started);
      const error = err instanceof Error ? err.message : String(err);
      outcomes.push({ name: test.name, ok: false, ms, error });
      console.log(`  ✗ ${test.name} (${ms} ms)\n      ${error.split("\n").join("\n      ")}`);
      await onFailure(test, i).catch(() => undefined);
    }
  }
  return outcomes;
}

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return path.join(SCREENSHOT_DIR, `${name.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}.png`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshotPath(name), fullPage: true });
}

/** One part of a page (a card), when the whole page is too long to read. */
export async function screenshotOf(locator: Locator, name: string): Promise<void> {
  await locator.screenshot({ path: screenshotPath(name) });
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** Waits until the element's text satisfies `want` (exact string or pattern). */
export async function expectText(
  locator: Locator,
  want: string | RegExp,
  { timeout = 10_000, what = "element" }: { timeout?: number; what?: string } = {},
): Promise<string> {
  const deadline = Date.now() + timeout;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await locator.first().textContent({ timeout: Math.max(1, deadline - Date.now()) }).catch(() => null);
    if (last !== null) {
      const text = last.trim();
      if (typeof want === "string" ? text === want : want.test(text)) return text;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new AssertionError(
    `${what}: expected ${typeof want === "string" ? JSON.stringify(want) : want} within ${timeout} ms, ` +
      `last saw ${last === null ? "no element" : JSON.stringify(last.trim())}`,
  );
}
