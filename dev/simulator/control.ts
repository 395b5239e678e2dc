/**
 * The simulator's own control surface under /_sim: tests and benchmarks change behaviour at run
 * time here instead of relying on headers reaching the simulator through a proxy.
 */
import { ConfigError } from "./config.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import type { RequestLogEntry } from "./state.ts";
import { redeliverWebhook } from "./webhooks.ts";

export const controlFormat: ProviderFormat = {
  name: "simulator",
  renderError(error) {
    return { body: { error: error.message } };
  },
};

function parseJson(ctx: RouteContext): unknown {
  if (ctx.body.length === 0) return {};
  try {
    return JSON.parse(ctx.body.toString("utf8"));
  } catch {
    throw new SimHttpError(400, "body must be JSON");
  }
}

async function getConfig(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, ctx.state.config);
}

async function postConfig(ctx: RouteContext): Promise<void> {
  try {
    sendJson(ctx.res, 200, ctx.state.update(parseJson(ctx)));
  } catch (error) {
    if (error instanceof ConfigError) throw new SimHttpError(400, error.message);
    throw error;
  }
}

async function reset(ctx: RouteContext): Promise<void> {
  ctx.state.reset();
  sendJson(ctx.res, 200, ctx.state.config);
}

async function listRequests(ctx: RouteContext): Promise<void> {
  const limitParam = ctx.url.searchParams.get("limit");
  const limit = limitParam === null ? undefined : Number(limitParam);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new SimHttpError(400, "limit must be a positive integer");
  const pathPrefix = ctx.url.searchParams.get("path") ?? undefined;
  sendJson(ctx.res, 200, { requests: ctx.state.requests({ limit, pathPrefix }) });
}

/** Provider paths whose replies carry usage: the AI routes of OpenAI, Anthropic, Gemini and ElevenLabs. */
const AI_PATH = /^\/(v1\/(chat\/completions|completions|embeddings|messages|audio\/speech|text-to-speech\/[^/]+)|v1beta\/openai\/chat\/completions)$/;

/** One AI request as the simulator served it (GET /_sim/served). */
export interface ServedEntry {
  seq: number;
  requestId: string | null;
  at: number;
  path: string;
  model: string | null;
  stream: boolean;
  /** The caller's `user` (Anthropic: `metadata.user_id`): how a client correlates its requests. */
  tag: string | null;
  status: number | null;
  outcome: RequestLogEntry["outcome"];
  durationMs: number | null;
  /** The usage the caller received: null when the reply (or a stream's usage event) never reached it. */
  usage: unknown;
  /** The usage this reply was going to report, delivered or not; null when no reply was planned. */
  plannedUsage: unknown;
  eventsWritten: number | null;
  eventsTotal: number | null;
}

/** A log entry as a served AI request: was the usage it planned delivered? */
export function servedEntry(entry: RequestLogEntry): ServedEntry {
  const body = (typeof entry.body === "object" && entry.body !== null ? entry.body : {}) as Record<string, unknown>;
  const metadata = (typeof body.metadata === "object" && body.metadata !== null ? body.metadata : {}) as Record<string, unknown>;
  const tag = typeof body.user === "string" ? body.user : typeof metadata.user_id === "string" ? metadata.user_id : null;
  const served = entry.served;
  let delivered = false;
  if (served) {
    delivered = served.stream
      ? served.usageEvent !== null && served.eventsWritten > served.usageEvent
      : entry.outcome === "completed" && entry.status === 200;
  }
  return {
    seq: entry.seq,
    requestId: entry.requestId ?? null,
    at: entry.at,
    path: entry.path,
    model: typeof body.model === "string" ? body.model : (entry.path.match(/^\/v1\/text-to-speech\//) && typeof body.model_id === "string" ? body.model_id : null),
    stream: body.stream === true,
    tag,
    status: entry.status,
    outcome: entry.outcome,
    durationMs: entry.durationMs,
    usage: delivered ? served!.usage : null,
    plannedUsage: served?.usage ?? null,
    eventsWritten: served?.stream ? served.eventsWritten : null,
    eventsTotal: served?.stream ? served.eventsTotal : null,
  };
}

/**
 * `GET /_sim/served?after=SEQ&limit=N`: the AI requests in the log after `after`, oldest first,
 * each with the usage its reply reported to the caller. `truncated` says the log (bounded by
 * `requestLogSize`) already dropped entries after `after`, so a caller that must see every
 * request knows it did not.
 */
async function listServed(ctx: RouteContext): Promise<void> {
  const after = Number(ctx.url.searchParams.get("after") ?? "0");
  if (!Number.isInteger(after) || after < 0) throw new SimHttpError(400, "after must be a non-negative integer");
  const limitParam = ctx.url.searchParams.get("limit");
  const limit = limitParam === null ? 1000 : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) throw new SimHttpError(400, "limit must be an integer from 1 to 10000");
  const all = ctx.state.requests();
  const truncated = all.length > 0 && all[0].seq > after + 1;
  const served: ServedEntry[] = [];
  let last = after;
  for (const entry of all) {
    if (entry.seq <= after) continue;
    if (served.length >= limit) break;
    last = entry.seq;
    if (AI_PATH.test(entry.path)) served.push(servedEntry(entry));
  }
  const more = all.length > 0 && all[all.length - 1].seq > last;
  sendJson(ctx.res, 200, { served, next: more ? last : null, truncated });
}

async function listWebhooks(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { deliveries: ctx.state.webhookDeliveries(ctx.url.searchParams.get("provider") ?? undefined) });
}

async function redeliver(ctx: RouteContext): Promise<void> {
  const body = parseJson(ctx) as { url?: unknown };
  if (body.url !== undefined && typeof body.url !== "string") throw new SimHttpError(400, "url must be a string");
  sendJson(ctx.res, 200, { delivery: await redeliverWebhook(ctx.state, Number(ctx.params[0]), body.url as string | undefined) });
}

const INDEX_LINKS: [string, string][] = [
  ["/_sim/inbox", "Captured mail (Gmail and the email API)"],
  ["/_sim/config", "Current knobs (POST a partial JSON to change, POST /_sim/reset to restore)"],
  ["/_sim/requests", "Request log: what the app sent to each provider"],
  ["/_sim/served", "AI requests served, each with the usage its reply reported to the app"],
  ["/_sim/webhooks", "Webhooks delivered to the app, with its answers"],
  ["/_sim/stripe", "Stripe customers, checkouts, subscriptions, invoices, meter events"],
  ["/_sim/polar", "Polar checkouts, customers, subscriptions, orders, ingested events"],
  ["/_sim/telnyx", "Telnyx numbers, messages and the webhook public key"],
  ["/_sim/signal", "Signal accounts (with verification codes) and sent messages"],
  ["/_sim/google", "Workspace users, mailboxes and calendars"],
];

/** A page for people: where to look while developing against the simulator. */
async function index(ctx: RouteContext): Promise<void> {
  const items = INDEX_LINKS.map(([href, label]) => `<li><a href="${href}">${href}</a>: ${label}</li>`).join("");
  ctx.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  ctx.res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Provider simulator</title></head>
<body style="font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto"><h1>Provider simulator</h1>
<p>OpenAI, Stripe, Polar, Telnyx, Signal, Google Workspace and an email API, answering locally. See dev/simulator/README.md.</p>
<ul>${items}</ul></body></html>`);
}

async function health(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { ok: true });
}

export const controlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/?$/, provider: controlFormat, handle: index },
  { method: "GET", path: /^\/_sim\/health$/, provider: controlFormat, handle: health },
  { method: "GET", path: /^\/_sim\/config$/, provider: controlFormat, handle: getConfig },
  { method: "POST", path: /^\/_sim\/config$/, provider: controlFormat, handle: postConfig },
  { method: "POST", path: /^\/_sim\/reset$/, provider: controlFormat, handle: reset },
  { method: "GET", path: /^\/_sim\/requests$/, provider: controlFormat, handle: listRequests },
  { method: "GET", path: /^\/_sim\/served$/, provider: controlFormat, handle: listServed },
  { method: "GET", path: /^\/_sim\/webhooks$/, provider: controlFormat, handle: listWebhooks },
  { method: "POST", path: /^\/_sim\/webhooks\/(\d+)\/redeliver$/, provider: controlFormat, handle: redeliver },
];
