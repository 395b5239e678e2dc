// Mounts the OpenAI-compatible AI endpoints, and the JSON 404 for any other /v1/ path.
import type { HttpRouter } from "convex/server";
import { httpAction } from "../_generated/server";
import { chatCompletions } from "./chat";
import { completions } from "./completions";
import { embeddings } from "./embeddings";
import { listModels, retrieveModel } from "./models";
import { preflightResponse, unknownRoute } from "./respond";
import { speech } from "./speech";

async function preflightHandler(_ctx: unknown, request: Request): Promise<Response> {
  return preflightResponse(request);
}

async function unknownRouteHandler(_ctx: unknown, request: Request): Promise<Response> {
  return unknownRoute(request);
}

export const preflight = httpAction(preflightHandler);
const notFound = httpAction(unknownRouteHandler);

type Handler = Parameters<HttpRouter["route"]>[0]["handler"];
export type Route = [path: string, method: "GET" | "POST" | "DELETE", handler: Handler];

/**
 * Routes on exact paths and on path prefixes (a prefix's handler reads the id after it), with a
 * CORS preflight for each path and each prefix.
 */
export function mountRoutes(http: HttpRouter, routes: { exact: Route[]; prefixed?: Route[] }): void {
  const paths = new Set<string>();
  for (const [path, method, handler] of routes.exact) {
    http.route({ path, method, handler });
    paths.add(path);
  }
  for (const path of paths) http.route({ path, method: "OPTIONS", handler: preflight });
  const prefixes = new Set<string>();
  for (const [pathPrefix, method, handler] of routes.prefixed ?? []) {
    http.route({ pathPrefix, method, handler });
    prefixes.add(pathPrefix);
  }
  for (const pathPrefix of prefixes) http.route({ pathPrefix, method: "OPTIONS", handler: preflight });
}

export function mountProxyRoutes(http: HttpRouter): void {
  mountRoutes(http, {
    exact: [
      ["/v1/chat/completions", "POST", chatCompletions],
      ["/v1/completions", "POST", completions],
      ["/v1/embeddings", "POST", embeddings],
      ["/v1/audio/speech", "POST", speech],
      ["/v1/models", "GET", listModels],
    ],
    prefixed: [["/v1/models/", "GET", retrieveModel]],
  });
}

/**
 * Mounted last: every /v1/ path and method that no route serves answers OpenAI's JSON 404
 * (clients parse `error.message`), and its preflight succeeds so browsers can read that 404.
 * Exact paths and longer prefixes win over this one.
 */
export function mountUnknownV1Routes(http: HttpRouter): void {
  for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"] as const) {
    http.route({ pathPrefix: "/v1/", method, handler: notFound });
  }
  http.route({ pathPrefix: "/v1/", method: "OPTIONS", handler: preflight });
}
