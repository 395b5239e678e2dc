// Liveness: the deployment answers HTTP (no dependencies). Readiness, which does look at
// dependencies, is /readyz (readiness.ts); Prometheus metrics are /metrics (metrics.ts).
import type { HttpRouter } from "convex/server";
import { httpAction } from "../_generated/server";
import { readyz } from "./readiness";

async function healthzHandler(): Promise<Response> {
  return new Response(JSON.stringify({ ok: true }), {
    status: 200,
    headers: { "content-type": "application/json" },
  });
}

const healthz = httpAction(healthzHandler);

export function mountOpsRoutes(http: HttpRouter): void {
  http.route({ path: "/healthz", method: "GET", handler: healthz });
  http.route({ path: "/readyz", method: "GET", handler: readyz });
}
