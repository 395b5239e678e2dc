// The table of contents of the HTTP surface: each domain mounts its own routes.
import { httpRouter } from "convex/server";
import { mountAdminApiRoutes } from "./admin/api";
import { mountBillingRoutes } from "./billing/webhooks";
import { mountClerkRoutes } from "./clerk/webhooks";
import { mountCredentialRoutes } from "./credentials/routes";
import { mountDexApiRoutes } from "./dexApi/routes";
import { mountEmailRoutes } from "./email/unsubscribe";
import { mountIdentityRoutes } from "./identity/webhooks";
import { mountDevAuthRoutes } from "./devAuth/issuer";
import { mountOAuthRoutes } from "./oauth/routes";
import { mountOpsRoutes } from "./ops/health";
import { mountMetricsRoutes } from "./ops/metrics";
import { mountProxyRoutes, mountUnknownV1Routes } from "./proxy/routes";

const http = httpRouter();

// GET /healthz
mountOpsRoutes(http);
// GET /metrics: Prometheus text, Bearer METRICS_TOKEN.
mountMetricsRoutes(http);
// GET /.well-known/jwks.json, POST /dev-auth/token: only with DEV_AUTH=true.
mountDevAuthRoutes(http);
// POST /v1/chat/completions, /v1/embeddings, /v1/audio/speech; GET /v1/models[/{id}].
mountProxyRoutes(http);
// GET /v1/usage[/remaining], GET/POST /v1/api-keys, DELETE /v1/api-keys/{id}.
mountDexApiRoutes(http);
// POST /webhooks/clerk: Clerk user events (Svix-signed).
mountClerkRoutes(http);
// GET/POST /email/unsubscribe: the signed unsubscribe link of marketing mail.
mountEmailRoutes(http);
// POST /webhooks/stripe, /webhooks/polar: billing events (signed), each applied once.
mountBillingRoutes(http);
// POST /webhooks/telnyx: inbound SMS (ed25519-signed): Signal's codes and stored texts.
mountIdentityRoutes(http);
// POST /oauth/token, /oauth/revoke, /oauth/device_authorization; GET /.well-known/oauth-authorization-server.
mountOAuthRoutes(http);
// GET /v1/admin/users, /v1/admin/usage; POST /v1/admin/provision/{id}: admin API keys.
mountAdminApiRoutes(http);
// POST /api/session, POST/GET /api/provisioning/token: short-lived proxy credentials.
mountCredentialRoutes(http);
// Any other /v1/ path: OpenAI's JSON 404.
mountUnknownV1Routes(http);

export default http;
