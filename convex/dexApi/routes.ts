// Mounts the Dex API: endpoints a Dex instance calls with its account's key (later also an
// OAuth access token) that call no AI provider.
import type { HttpRouter } from "convex/server";
import { mountExact, preflight } from "../proxy/routes";
import { createKey, listKeys, revokeKey } from "./apiKeys";
import { usageRemaining, usageReport } from "./usage";

export function mountDexApiRoutes(http: HttpRouter): void {
  mountExact(http, [
    ["/v1/api-keys", "GET", listKeys],
    ["/v1/api-keys", "POST", createKey],
    ["/v1/usage", "GET", usageReport],
    ["/v1/usage/remaining", "GET", usageRemaining],
  ]);
  http.route({ pathPrefix: "/v1/api-keys/", method: "DELETE", handler: revokeKey });
  http.route({ pathPrefix: "/v1/api-keys/", method: "OPTIONS", handler: preflight });
}
