// The router only: each domain module owns its handlers and mounts them here.
import { httpRouter } from "convex/server";
import { devAuthEnabled, jwks, preflight, token } from "./devAuth";
import { healthz } from "./ops";
import { mountProxyRoutes } from "./proxy/routes";

const http = httpRouter();

http.route({ path: "/healthz", method: "GET", handler: healthz });

// Dev sign-in exists only on deployments that opted in; production never serves it.
if (devAuthEnabled()) {
  http.route({ path: "/.well-known/jwks.json", method: "GET", handler: jwks });
  http.route({ path: "/dev-auth/token", method: "POST", handler: token });
  http.route({ path: "/dev-auth/token", method: "OPTIONS", handler: preflight });
}

// AI proxy (/v1/chat/completions, embeddings, audio/speech, models) and Dex API (/v1/usage, /v1/api-keys).
mountProxyRoutes(http);

export default http;
