// Mounts the Dex API: endpoints a Dex instance calls with its account's key (later also an
// OAuth access token) that call no AI provider.
import type { HttpRouter } from "convex/server";
import { mountRoutes } from "../proxy/routes";
import { createKey, listKeys, revokeKey } from "./apiKeys";
import { billingPortal, billingSubscribe, billingSubscription } from "./billing";
import { identity, identityStatus } from "./identity";
import { usageRemaining, usageReport } from "./usage";

export function mountDexApiRoutes(http: HttpRouter): void {
  mountRoutes(http, {
    exact: [
      ["/v1/api-keys", "GET", listKeys],
      ["/v1/api-keys", "POST", createKey],
      ["/v1/usage", "GET", usageReport],
      ["/v1/usage/remaining", "GET", usageRemaining],
      ["/v1/billing/subscription", "GET", billingSubscription],
      ["/v1/billing/subscribe", "POST", billingSubscribe],
      ["/v1/billing/portal", "POST", billingPortal],
      ["/v1/identity", "GET", identity],
      ["/v1/identity/status", "GET", identityStatus],
    ],
    prefixed: [["/v1/api-keys/", "DELETE", revokeKey]],
  });
}
