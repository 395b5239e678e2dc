/// <reference types="vite/client" />
// Tests only: the provider simulator as Stripe and Polar over real HTTP (convex-test runs an
// action's fetch for real, so stripe-node and the Polar SDK talk to it as to the providers), and
// a small receiver that hands the simulator's signed webhooks to the test deployment's router,
// so a simulated checkout reaches the account exactly as a real one would.
import { afterAll, beforeAll, beforeEach, vi } from "vitest";
import { newTest, type TestConvex } from "../test.setup";
import { APP_URL, PRICE, PRODUCT, STRIPE_SECRET, stubBillingEnv } from "./webhooks.setup";

/** The simulator's default Polar secret: not base64, so only the UTF-8-bytes scheme can match it. */
export const SIM_POLAR_SECRET = "polar_whs_simulator";

export interface SimRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: unknown;
  status: number | null;
}

export interface BillingSimulator {
  url: string;
  configure(patch: Record<string, unknown>): unknown;
  requests(options?: { pathPrefix?: string }): SimRequest[];
  reset(): void;
  close(): Promise<void>;
}

// Not static imports: the simulator is Node code written for the root tsconfig (`.ts` import
// paths), and Node built-ins are kept out of convex/ outside tests.
const SIMULATOR_MODULE = "../../dev/simulator/server.ts";
const NODE_HTTP = "node:http";

interface NodeHttp {
  createServer(handler: (req: AsyncIterable<Uint8Array> & { method?: string; url?: string; headers: Record<string, string | string[] | undefined> }, res: {
    writeHead(status: number, headers?: Record<string, string>): { end(body?: string): void };
  }) => void): {
    listen(port: number, host: string, cb: () => void): void;
    address(): { port: number } | string | null;
    close(cb: () => void): void;
  };
}

export interface BillingStack {
  sim: BillingSimulator;
  /** Where the simulator delivers webhooks: forwarded to whichever test deployment `attach` named. */
  receiverUrl: string;
  attach(t: TestConvex): void;
  /** Clears the simulator and points it at the receiver, with this suite's prices and secrets. */
  reset(): void;
  close(): Promise<void>;
}

export async function startBillingStack(): Promise<BillingStack> {
  const { startSimulator } = (await import(/* @vite-ignore */ SIMULATOR_MODULE)) as {
    startSimulator(options: { port: number; useEnv: boolean }): Promise<BillingSimulator>;
  };
  const http = (await import(/* @vite-ignore */ NODE_HTTP)) as NodeHttp;
  const sim = await startSimulator({ port: 0, useEnv: false });
  let current: TestConvex | null = null;
  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of req) chunks.push(chunk);
      const bytes = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
      let offset = 0;
      for (const c of chunks) {
        bytes.set(c, offset);
        offset += c.length;
      }
      const body = new TextDecoder().decode(bytes);
      const headers: Record<string, string> = {};
      for (const [k, value] of Object.entries(req.headers)) if (typeof value === "string") headers[k] = value;
      if (current === null) {
        res.writeHead(503).end("no test deployment attached");
        return;
      }
      const answer = await current.fetch(req.url ?? "/", { method: req.method, headers, body });
      res.writeHead(answer.status, { "content-type": "application/json" }).end(await answer.text());
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const receiverUrl = `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`;
  const configure = () =>
    sim.configure({
      stripe: {
        webhookUrl: `${receiverUrl}/webhooks/stripe`,
        webhookSecret: STRIPE_SECRET,
        priceAmounts: { [PRICE.basic]: 5_000, [PRICE.pro]: 25_000 },
      },
      polar: {
        webhookUrl: `${receiverUrl}/webhooks/polar`,
        webhookSecret: SIM_POLAR_SECRET,
        priceAmounts: { [PRODUCT.basic]: 5_000, [PRODUCT.pro]: 25_000 },
      },
    });
  configure();
  return {
    sim,
    receiverUrl,
    attach: (t) => {
      current = t;
    },
    reset: () => {
      sim.reset();
      configure();
    },
    close: async () => {
      await sim.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export interface SuiteBillingStack extends BillingStack {
  /** A fresh test deployment, attached so the simulator's webhooks reach it. */
  deployment(): TestConvex;
}

/** Before each test by default: a clean simulator and the billing env pointed at it. */
function resetBillingStack(stack: BillingStack): void {
  stack.reset();
  stubSimulatorBillingEnv(stack.sim);
}

/**
 * One billing stack for the calling test file: started before its tests, closed after them,
 * prepared before each test by `prepare`. Call at the top level of the file; the handle it
 * returns stands for the stack inside tests and hooks.
 */
export function useBillingStack(prepare: (stack: BillingStack) => void = resetBillingStack): SuiteBillingStack {
  let started: BillingStack | null = null;
  const current = (): BillingStack => {
    if (started === null) throw new Error("the billing stack is used outside this file's tests");
    return started;
  };
  beforeAll(async () => {
    started = await startBillingStack();
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(() => prepare(current()));
  return {
    get sim() {
      return current().sim;
    },
    get receiverUrl() {
      return current().receiverUrl;
    },
    attach: (t) => current().attach(t),
    reset: () => current().reset(),
    close: () => current().close(),
    deployment: () => {
      const t = newTest();
      current().attach(t);
      return t;
    },
  };
}

/** The deployment's billing env pointed at the simulator (Stripe by default). */
export function stubSimulatorBillingEnv(sim: BillingSimulator, over: Record<string, string> = {}): void {
  stubBillingEnv({
    STRIPE_SECRET_KEY: "sk_test_simulator",
    STRIPE_BASE_URL: sim.url,
    POLAR_ACCESS_TOKEN: "polar_oat_simulator",
    POLAR_BASE_URL: sim.url,
    POLAR_WEBHOOK_SECRET: SIM_POLAR_SECRET,
    APP_URL,
    ...over,
  });
}

/** POST to a simulator control endpoint (completing a checkout, failing a payment...). */
export async function control<T = unknown>(sim: BillingSimulator, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${sim.url}${path}`, {
    method: "POST",
    ...(body === undefined ? {} : { headers: { "content-type": "application/json" }, body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

export async function simState<T = Record<string, unknown[]>>(sim: BillingSimulator, provider: "stripe" | "polar"): Promise<T> {
  return (await (await fetch(`${sim.url}/_sim/${provider}`)).json()) as T;
}

export function unstubAll(): void {
  vi.unstubAllEnvs();
}
