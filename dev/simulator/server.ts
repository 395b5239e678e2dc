/**
 * The provider simulator: one local HTTP server that answers in the providers' real wire formats,
 * so adapters pointed at it through their base-URL env vars (and the official SDKs) behave as they
 * would against the real services.
 *
 *   npx tsx dev/simulator/server.ts          # listens on SIMULATOR_PORT (default 3220)
 *
 * Provider modules contribute routes; /_sim/* is the control surface (see README.md).
 */
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { pathToFileURL } from "node:url";
import { configFromEnv, DEFAULT_CONFIG, mergeConfig, type ConfigPatch, type SimulatorConfig } from "./config.ts";
import { controlRoutes } from "./control.ts";
import { googleControlRoutes, googleFormat, googleRoutes } from "./google.ts";
import { readBody, readOverrides, sendJson, SimHttpError, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { emailApiRoutes, mailboxControlRoutes } from "./mailbox.ts";
import { openAIFormat, openAIRoutes } from "./openai.ts";
import { anthropicRoutes } from "./anthropic.ts";
import { elevenLabsRoutes } from "./elevenlabs.ts";
import { geminiFormat, geminiRoutes } from "./gemini.ts";
import { polarControlRoutes, polarRoutes } from "./polar.ts";
import { signalControlRoutes, signalRoutes } from "./signal.ts";
import { SimulatorState, type RequestLogEntry } from "./state.ts";
import { parseStripeForm, stripeControlRoutes, stripeRoutes } from "./stripe.ts";
import { telnyxControlRoutes, telnyxFormat, telnyxPublicKey, telnyxRoutes } from "./telnyx.ts";

export const DEFAULT_PORT = 3220;

export class SimulatorStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SimulatorStartError";
  }
}

/** Every provider's routes; the first match wins, so more specific patterns go first. */
const PROVIDER_ROUTES: readonly Route[] = [
  ...openAIRoutes,
  ...anthropicRoutes,
  ...geminiRoutes,
  ...elevenLabsRoutes,
  ...stripeRoutes,
  ...polarRoutes,
  ...telnyxRoutes,
  ...signalRoutes,
  ...googleRoutes,
  ...emailApiRoutes,
];
const CONTROL_ROUTES: readonly Route[] = [
  ...controlRoutes,
  ...stripeControlRoutes,
  ...polarControlRoutes,
  ...telnyxControlRoutes,
  ...signalControlRoutes,
  ...googleControlRoutes,
  ...mailboxControlRoutes,
];

export interface SimulatorOptions extends ConfigPatch {
  /** 0 picks a free port (tests). Default: SIMULATOR_PORT or 3220. */
  port?: number;
  /** Default: SIMULATOR_HOST or 127.0.0.1. */
  host?: string;
  /** Read SIMULATOR_* knobs from the environment (default true; options still win). */
  useEnv?: boolean;
}

export interface RunningSimulator {
  /** Base URL without a trailing slash, e.g. http://127.0.0.1:3220 (OpenAI base: `${url}/v1`). */
  url: string;
  port: number;
  /** Applies a partial config, like POST /_sim/config. */
  configure(patch: ConfigPatch): SimulatorConfig;
  /**
   * Points Stripe, Polar and Telnyx webhooks at the app's routes (`${siteUrl}/webhooks/stripe`,
   * `/webhooks/polar`, `/webhooks/telnyx`), for runners that start the app after the simulator.
   */
  connectWebhooks(siteUrl: string): SimulatorConfig;
  /** Back to the startup config; clears the request log and counters, like POST /_sim/reset. */
  reset(): void;
  /** The request log, like GET /_sim/requests. */
  requests(options?: { limit?: number; pathPrefix?: string }): RequestLogEntry[];
  close(): Promise<void>;
}

function logBody(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return null;
  const text = body.toString("utf8");
  // Stripe-style form bodies are logged decoded so tests can assert on fields.
  if (contentType?.includes("application/x-www-form-urlencoded")) return parseStripeForm(text);
  try {
    return JSON.parse(text);
  } catch {
    return body.length <= 65_536 ? text : `<${body.length} bytes>`;
  }
}

/** The provider whose format an unknown path is answered in, by the path's family. */
function formatForUnknownPath(pathname: string): ProviderFormat {
  if (pathname.startsWith("/v2/") && !pathname.startsWith("/v2/send")) return telnyxFormat;
  if (/^\/(admin|gmail|calendar)\//.test(pathname)) return googleFormat;
  if (pathname.startsWith("/v1beta/")) return geminiFormat;
  return openAIFormat;
}

function findRoute(routes: readonly Route[], method: string, pathname: string): { route: Route; params: string[] } | null {
  for (const route of routes) {
    if (route.method !== method) continue;
    const match = route.path.exec(pathname);
    if (match) return { route, params: match.slice(1) };
  }
  return null;
}

function handleError(error: unknown, route: Route | null, ctx: { res: ServerResponse; log: RequestLogEntry; pathname: string }): void {
  const simError = error instanceof SimHttpError ? error : new SimHttpError(500, `Simulator internal error: ${error instanceof Error ? error.message : String(error)}`);
  if (!(error instanceof SimHttpError)) console.error("[simulator]", error);
  ctx.log.outcome = "failed";
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  const rendered = (route?.provider ?? formatForUnknownPath(ctx.pathname)).renderError(simError);
  sendJson(ctx.res, simError.status, rendered.body, rendered.headers);
}

function createHandler(state: SimulatorState) {
  const routes = [...CONTROL_ROUTES, ...PROVIDER_ROUTES];
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const startedAt = Date.now();
    const url = new URL(req.url ?? "/", "http://simulator.local");
    const method = req.method ?? "GET";
    const requestId = `req_${randomBytes(16).toString("hex")}`;
    res.setHeader("x-request-id", requestId);
    const isControl = url.pathname === "/_sim" || url.pathname.startsWith("/_sim/");
    const found = findRoute(routes, method, url.pathname);

    let closed = false;
    res.on("close", () => {
      closed = true;
    });
    const sleep = (ms: number) =>
      new Promise<boolean>((resolve) => {
        if (closed) return resolve(false);
        if (ms <= 0) return resolve(true);
        const onClose = () => {
          clearTimeout(timer);
          resolve(false);
        };
        const timer = setTimeout(() => {
          res.off("close", onClose);
          resolve(true);
        }, ms);
        res.once("close", onClose);
      });

    let body: Buffer = Buffer.alloc(0);
    const entry = {
      at: startedAt,
      requestId,
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: null as unknown,
      status: null,
      outcome: "pending" as const,
      durationMs: null,
    };
    // Control calls are not provider traffic; keep them out of the log tests assert on.
    const log: RequestLogEntry = isControl ? { ...entry, seq: 0, headers: {} } : state.record(entry);
    res.on("close", () => {
      log.durationMs = Date.now() - startedAt;
      if (log.outcome === "pending") log.outcome = res.writableFinished ? "completed" : "client_closed";
    });
    res.on("finish", () => {
      log.status = res.statusCode;
    });

    try {
      body = await readBody(req);
      log.body = logBody(body, req.headers["content-type"]);
      if (!found) {
        // OpenAI's wording; Telnyx and Google paths get their own envelope (formatForUnknownPath).
        throw new SimHttpError(404, `Invalid URL (${method} ${url.pathname})`);
      }
      const overrides = readOverrides(req);
      const ctx: RouteContext = {
        req,
        res,
        url,
        params: found.params,
        body,
        requestId,
        state,
        overrides,
        log,
        json() {
          try {
            const value: unknown = JSON.parse(body.toString("utf8"));
            if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
          } catch {
            // fall through to the provider-shaped 400
          }
          throw new SimHttpError(400, "We could not parse the JSON body of your request. The API expects a JSON object.", { type: "invalid_request_error" });
        },
        sleep,
        closed: () => closed,
      };
      if (!isControl) {
        const latency = (overrides.latencyMs ?? state.config.latencyMs) + state.takeSlow(url.pathname);
        if (!(await sleep(latency))) return;
        // Identity providers' own latency and failure rate (providerFaults knob).
        const fault = state.takeProviderFault(found.route.provider.name);
        if (fault && !(await sleep(fault.latencyMs))) return;
        if (fault?.failStatus) throw new SimHttpError(fault.failStatus, "");
        const failure = overrides.failStatus !== null ? { status: overrides.failStatus } : state.takeFailure(url.pathname);
        if (failure) {
          const headers: Record<string, string> = {};
          if ("retryAfterSeconds" in failure && failure.retryAfterSeconds !== null) headers["retry-after"] = String(failure.retryAfterSeconds);
          if ("shouldRetry" in failure && failure.shouldRetry !== null) headers[found.route.provider.retryHeader ?? "x-should-retry"] = String(failure.shouldRetry);
          throw new SimHttpError(failure.status, ("message" in failure && failure.message) || "", {
            ...("code" in failure && failure.code !== null ? { code: failure.code } : {}),
            headers,
          });
        }
      }
      await found.route.handle(ctx);
    } catch (error) {
      handleError(error, found?.route ?? null, { res, log, pathname: url.pathname });
    }
  };
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const { port: portOption, host: hostOption, useEnv = true, ...knobs } = options;
  const fromEnv = useEnv ? configFromEnv() : {};
  const config = mergeConfig(mergeConfig(DEFAULT_CONFIG, fromEnv), knobs);
  const state = new SimulatorState(config);
  const port = portOption ?? (process.env.SIMULATOR_PORT ? Number(process.env.SIMULATOR_PORT) : DEFAULT_PORT);
  const host = hostOption ?? process.env.SIMULATOR_HOST ?? "127.0.0.1";

  const handler = createHandler(state);
  const server = http.createServer((req, res) => {
    void handler(req, res);
  });
  // Many keep-alive connections from concurrent benchmarks; never let Node's defaults cut them.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  const sockets = new Set<Socket>();
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "EADDRINUSE"
          ? new SimulatorStartError(`Port ${port} is already in use (is \`npm run dev\` already running?). Stop the other process or set SIMULATOR_PORT.`)
          : error,
      );
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${actualPort}`,
    port: actualPort,
    configure: (patch) => state.update(patch),
    connectWebhooks: (siteUrl) => {
      const base = siteUrl.replace(/\/+$/, "");
      return state.update({
        stripe: { webhookUrl: `${base}/webhooks/stripe` },
        polar: { webhookUrl: `${base}/webhooks/polar` },
        telnyx: { webhookUrl: `${base}/webhooks/telnyx` },
      });
    },
    reset: () => state.reset(),
    requests: (opts) => state.requests(opts),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // Open streams and idle keep-alive sockets would otherwise hold close() forever.
        for (const socket of sockets) socket.destroy();
      }),
  };
}

async function main(): Promise<void> {
  const sim = await startSimulator();
  const config = sim.configure({});
  console.log(`Provider simulator listening on ${sim.url} (index: ${sim.url}/_sim, captured mail: ${sim.url}/_sim/inbox)`);
  console.log(`  OPENAI_BASE_URL=${sim.url}/v1`);
  console.log(`  ANTHROPIC_BASE_URL=${sim.url} GEMINI_BASE_URL=${sim.url}/v1beta/openai ELEVENLABS_BASE_URL=${sim.url}`);
  console.log(`  Stripe webhook secret ${config.stripe.webhookSecret}, Polar webhook secret ${config.polar.webhookSecret}`);
  console.log(`  TELNYX_PUBLIC_KEY=${telnyxPublicKey()}`);
  const stop = () => {
    void sim.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
