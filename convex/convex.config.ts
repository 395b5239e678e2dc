import { defineApp } from "convex/server";
import { v } from "convex/values";
import rateLimiter from "@convex-dev/rate-limiter/convex.config";
import workpool from "@convex-dev/workpool/convex.config";

const app = defineApp({
  // The deployment's environment variables the functions read, as `env` from _generated/server
  // (CONVEX_SITE_URL is a system variable Convex sets itself). All optional: a deployment
  // without a provider's key answers with a clear error for that provider only. Each variable
  // is described in .env.local.example.
  env: {
    DEV_AUTH: v.optional(v.string()),
    DEV_AUTH_PRIVATE_JWK: v.optional(v.string()),
    OPENAI_API_KEY: v.optional(v.string()),
    OPENAI_BASE_URL: v.optional(v.string()),
    ANTHROPIC_API_KEY: v.optional(v.string()),
    ANTHROPIC_BASE_URL: v.optional(v.string()),
    GEMINI_API_KEY: v.optional(v.string()),
    GEMINI_BASE_URL: v.optional(v.string()),
    ELEVENLABS_API_KEY: v.optional(v.string()),
    ELEVENLABS_BASE_URL: v.optional(v.string()),
    KEY_ROTATION_GRACE_HOURS: v.optional(v.string()),
    OPENAI_FALLBACK_BASE_URL: v.optional(v.string()),
    OPENAI_FALLBACK_API_KEY: v.optional(v.string()),
    PROXY_RETRY_MAX_ATTEMPTS: v.optional(v.string()),
    PROXY_RETRY_BASE_DELAY_MS: v.optional(v.string()),
    PROXY_FIRST_BYTE_TIMEOUT_MS: v.optional(v.string()),
    PROXY_BREAKER_FAILURE_RATE: v.optional(v.string()),
    PROXY_BREAKER_WINDOW_MS: v.optional(v.string()),
    PROXY_BREAKER_MIN_REQUESTS: v.optional(v.string()),
    PROXY_BREAKER_COOLDOWN_MS: v.optional(v.string()),
    CLERK_JWT_ISSUER_DOMAIN: v.optional(v.string()),
    CLERK_WEBHOOK_SECRET: v.optional(v.string()),
    EMAIL_BASE_URL: v.optional(v.string()),
    EMAIL_API_KEY: v.optional(v.string()),
    EMAIL_FROM: v.optional(v.string()),
    APP_URL: v.optional(v.string()),
    ENCRYPTION_KEY: v.optional(v.string()),
    SIGNUP_IP_LIMIT_PER_HOUR: v.optional(v.string()),
    BILLING_PROVIDER: v.optional(v.string()),
    BILLING_GRACE_DAYS: v.optional(v.string()),
    STRIPE_SECRET_KEY: v.optional(v.string()),
    STRIPE_WEBHOOK_SECRET: v.optional(v.string()),
    STRIPE_PRICE_BASIC: v.optional(v.string()),
    STRIPE_PRICE_PRO: v.optional(v.string()),
    STRIPE_PRICE_BASIC_OVERAGE_INPUT: v.optional(v.string()),
    STRIPE_PRICE_BASIC_OVERAGE_OUTPUT: v.optional(v.string()),
    STRIPE_PRICE_PRO_OVERAGE_INPUT: v.optional(v.string()),
    STRIPE_PRICE_PRO_OVERAGE_OUTPUT: v.optional(v.string()),
    STRIPE_METER_EVENT_INPUT: v.optional(v.string()),
    STRIPE_METER_EVENT_OUTPUT: v.optional(v.string()),
    STRIPE_BASE_URL: v.optional(v.string()),
    POLAR_ACCESS_TOKEN: v.optional(v.string()),
    POLAR_WEBHOOK_SECRET: v.optional(v.string()),
    POLAR_PRODUCT_BASIC: v.optional(v.string()),
    POLAR_PRODUCT_PRO: v.optional(v.string()),
    POLAR_METER_EVENT_INPUT: v.optional(v.string()),
    POLAR_METER_EVENT_OUTPUT: v.optional(v.string()),
    POLAR_SERVER: v.optional(v.string()),
    POLAR_BASE_URL: v.optional(v.string()),
    GOOGLE_SERVICE_ACCOUNT_EMAIL: v.optional(v.string()),
    GOOGLE_SERVICE_ACCOUNT_PRIVATE_KEY: v.optional(v.string()),
    GOOGLE_ADMIN_EMAIL: v.optional(v.string()),
    WORKSPACE_DOMAIN: v.optional(v.string()),
    GOOGLE_BASE_URL: v.optional(v.string()),
    TELNYX_API_KEY: v.optional(v.string()),
    TELNYX_MESSAGING_PROFILE_ID: v.optional(v.string()),
    TELNYX_PUBLIC_KEY: v.optional(v.string()),
    TELNYX_BASE_URL: v.optional(v.string()),
    SIGNAL_CLI_URL: v.optional(v.string()),
    IDENTITY_RETENTION_DAYS: v.optional(v.string()),
    METRICS_TOKEN: v.optional(v.string()),
    OPS_ALERT_EMAIL: v.optional(v.string()),
    // Master provider keys with ids and the active one (convex/credentials/README.md).
    OPENAI_API_KEYS: v.optional(v.string()),
    OPENAI_ACTIVE_KEY_ID: v.optional(v.string()),
    ANTHROPIC_API_KEYS: v.optional(v.string()),
    ANTHROPIC_ACTIVE_KEY_ID: v.optional(v.string()),
    GEMINI_API_KEYS: v.optional(v.string()),
    GEMINI_ACTIVE_KEY_ID: v.optional(v.string()),
    ELEVENLABS_API_KEYS: v.optional(v.string()),
    ELEVENLABS_ACTIVE_KEY_ID: v.optional(v.string()),
    // Short-lived credentials and browser session tokens.
    CREDENTIAL_TTL_HOURS: v.optional(v.string()),
    CREDENTIAL_OVERLAP_MINUTES: v.optional(v.string()),
    SESSION_TOKEN_TTL_MINUTES: v.optional(v.string()),
  },
});
// Per-plan request and token limits on the AI proxy (sharded token buckets, OCC-friendly).
app.use(rateLimiter);
// Provider calls with retries, backoff and bounded parallelism. Nothing enqueues yet: the
// signup issue (#9, welcome emails) and the identity issue (#10, provisioning steps) do. The
// workpool's own status is the one record of attempts and failures; rows that own the work
// (emailOutbox, identities) keep its workId. See docs/architecture.md, "Retries".
app.use(workpool, { name: "providerPool" });
// Identity provisioning steps on a pool of their own (convex/lib/identityPool.ts): activations in
// a burst neither starve nor are starved by the email and billing work on providerPool.
app.use(workpool, { name: "identityPool" });

export default app;
