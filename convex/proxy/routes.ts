// Mounts the AI proxy and the key-authenticated Dex API on the deployment's router.
import type { HttpRouter } from "convex/server";
import { httpAction } from "../_generated/server";
import { chatCompletions } from "./chat";
import { createKey, listKeys, listModels, retrieveModel, revokeKey, usageRemaining, usageReport } from "./dexApi";
import { embeddings } from "./embeddings";
import { preflightResponse } from "./respond";
import { speech } from "./speech";

const preflight = httpAction(async (_ctx, request) => preflightResponse(request));

export function mountProxyRoutes(http: HttpRouter): void {
  const exact: Array<[string, "GET" | "POST" | "DELETE", Parameters<HttpRouter["route"]>[0]["handler"]]> = [
    ["/v1/chat/completions", "POST", chatCompletions],
    ["/v1/embeddings", "POST", embeddings],
    ["/v1/audio/speech", "POST", speech],
    ["/v1/models", "GET", listModels],
    ["/v1/api-keys", "GET", listKeys],
    ["/v1/api-keys", "POST", createKey],
    ["/v1/usage", "GET", usageReport],
    ["/v1/usage/remaining", "GET", usageRemaining],
  ];
  const paths = new Set<string>();
  for (const [path, method, handler] of exact) {
    http.route({ path, method, handler });
    paths.add(path);
  }
  for (const path of paths) http.route({ path, method: "OPTIONS", handler: preflight });
  http.route({ pathPrefix: "/v1/models/", method: "GET", handler: retrieveModel });
  http.route({ pathPrefix: "/v1/models/", method: "OPTIONS", handler: preflight });
  http.route({ pathPrefix: "/v1/api-keys/", method: "DELETE", handler: revokeKey });
  http.route({ pathPrefix: "/v1/api-keys/", method: "OPTIONS", handler: preflight });
}
