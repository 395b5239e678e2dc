// Browser tests: `npm run test:e2e`. Starts its own simulator, offline backend and
// Vite server on free ports with a temporary data dir, drives Debian's Chromium with
// playwright-core, saves screenshots to tests/e2e/screenshots/, and ends with
// "N passed, N failed" (exit code 1 on any failure).
import { chromium, type Browser, type Page } from "playwright-core";
import { runTests, screenshotPath } from "./harness.ts";
import { specs } from "./specs.ts";
import { startStack, type Stack } from "./stack.ts";

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
// A hung test must not hang CI: the whole run gets a hard ceiling.
const RUN_TIMEOUT_MS = 300_000;

async function main(): Promise<number> {
  const started = performance.now();
  const watchdog = setTimeout(() => {
    console.error(`Browser tests exceeded ${RUN_TIMEOUT_MS / 1000}s; aborting.`);
    console.log("0 passed, 1 failed");
    process.exit(1);
  }, RUN_TIMEOUT_MS);
  watchdog.unref();

  let stack: Stack | undefined;
  let browser: Browser | undefined;
  try {
    stack = await startStack();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const pages: Page[] = [];
    const world = { stack, browser, pages };
    console.log(`Browser tests against ${stack.appUrl} (backend ${stack.convexUrl})`);
    const outcomes = await runTests(specs(world), async (test) => {
      // The most recently opened page is the one the failing step was looking at.
      const page = pages.at(-1);
      if (page && !page.isClosed()) {
        await page.screenshot({ path: screenshotPath(`failed-${test.name}`), fullPage: true });
      }
    });
    const passed = outcomes.filter((o) => o.ok).length;
    const failed = outcomes.length - passed;
    if (failed > 0 && stack.backendLog.length > 0) {
      console.log(`\nBackend log (last 40 lines):\n${stack.backendLog.slice(-40).join("\n")}`);
    }
    console.log(`\nScreenshots: tests/e2e/screenshots/ (${((performance.now() - started) / 1000).toFixed(1)}s)`);
    console.log(`${passed} passed, ${failed} failed`);
    return failed === 0 ? 0 : 1;
  } catch (err) {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    console.log("0 passed, 1 failed");
    return 1;
  } finally {
    await browser?.close().catch(() => undefined);
    await stack?.stop();
    clearTimeout(watchdog);
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    // Only the cleanup in main's finally can get here; the run itself already counted.
    console.error(err);
    process.exit(1);
  },
);
