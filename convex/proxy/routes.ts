// Mounts the OpenAI-compatible AI endpoints, and the JSON 404 for any other /v1/ path.
import type { HttpRouter } from "convex/server";
import { httpAction } from "../_generated/server";
import { chatCompletions } from "./chat";
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

/** Exact routes plus a CORS preflight for each path. */
export function mountExact(http: HttpRouter, routes: Route[]): void {
  const paths = new Set<string>();
  for (const [path, method, handler] of routes) {
    http.route({ path, method, handler });
    paths.add(path);
  }
  for (const path of paths) http.route({ path, method: "OPTIONS", handler: preflight });
}

export function mountProxyRoutes(http: HttpRouter): void {
  mountExact(http, [
    ["/v1/chat/completions", "POST", chatCompletions],
    ["/v1/embeddings", "POST", embeddings],
    ["/v1/audio/speech", "POST", speech],
    ["/v1/models", "GET", listModels],
  ]);
  http.route({ pathPrefix: "/v1/models/", method: "GET", handler: retrieveModel });
  http.route({ pathPrefix: "/v1/models/", method: "OPTIONS", handler: preflight });
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
