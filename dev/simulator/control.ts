/**
 * The simulator's own control surface under /_sim: tests and benchmarks change behaviour at run
 * time here instead of relying on headers reaching the simulator through a proxy.
 */
import { ConfigError } from "./config.ts";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";

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

async function listWebhooks(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { deliveries: ctx.state.webhookDeliveries(ctx.url.searchParams.get("provider") ?? undefined) });
}

async function health(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { ok: true });
}

export const controlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/health$/, provider: controlFormat, handle: health },
  { method: "GET", path: /^\/_sim\/config$/, provider: controlFormat, handle: getConfig },
  { method: "POST", path: /^\/_sim\/config$/, provider: controlFormat, handle: postConfig },
  { method: "POST", path: /^\/_sim\/reset$/, provider: controlFormat, handle: reset },
  { method: "GET", path: /^\/_sim\/requests$/, provider: controlFormat, handle: listRequests },
  { method: "GET", path: /^\/_sim\/webhooks$/, provider: controlFormat, handle: listWebhooks },
];
