/* eslint-disable */
/**
 * Generated `api` utility.
 *
 * THIS CODE IS AUTOMATICALLY GENERATED.
 *
 * To regenerate, run `npx convex dev`.
 * @module
 */

import type {
  ApiFromModules,
  FilterApi,
  FunctionReference,
} from "convex/server";
import type * as admin_accounts from "../admin/accounts.js";
import type * as admin_signup from "../admin/signup.js";
import type * as apiKeys_callers from "../apiKeys/callers.js";
import type * as apiKeys_manage from "../apiKeys/manage.js";
import type * as apiKeys_rotation from "../apiKeys/rotation.js";
import type * as billing_apply from "../billing/apply.js";
import type * as billing_checkout from "../billing/checkout.js";
import type * as billing_customers from "../billing/customers.js";
import type * as billing_dunning from "../billing/dunning.js";
import type * as billing_events from "../billing/events.js";
import type * as billing_overage from "../billing/overage.js";
import type * as billing_overageBill from "../billing/overageBill.js";
import type * as billing_overageExport from "../billing/overageExport.js";
import type * as billing_overageReconcile from "../billing/overageReconcile.js";
import type * as billing_overageSupport from "../billing/overageSupport.js";
import type * as billing_portal from "../billing/portal.js";
import type * as billing_refetch from "../billing/refetch.js";
import type * as billing_sessions from "../billing/sessions.js";
import type * as billing_summary from "../billing/summary.js";
import type * as billing_support from "../billing/support.js";
import type * as billing_trials from "../billing/trials.js";
import type * as billing_view from "../billing/view.js";
import type * as billing_webhooks from "../billing/webhooks.js";
import type * as clerk_events from "../clerk/events.js";
import type * as clerk_webhooks from "../clerk/webhooks.js";
import type * as cli from "../cli.js";
import type * as crons from "../crons.js";
import type * as devAuth_env from "../devAuth/env.js";
import type * as devAuth_issuer from "../devAuth/issuer.js";
import type * as dexApi_apiKeys from "../dexApi/apiKeys.js";
import type * as dexApi_billing from "../dexApi/billing.js";
import type * as dexApi_routes from "../dexApi/routes.js";
import type * as dexApi_usage from "../dexApi/usage.js";
import type * as email_delivery from "../email/delivery.js";
import type * as email_unsubscribe from "../email/unsubscribe.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as identity_lifecycle from "../identity/lifecycle.js";
import type * as identity_steps from "../identity/steps.js";
import type * as lib_accounts from "../lib/accounts.js";
import type * as lib_apiKeys from "../lib/apiKeys.js";
import type * as lib_audit from "../lib/audit.js";
import type * as lib_emailOutbox from "../lib/emailOutbox.js";
import type * as lib_errors from "../lib/errors.js";
import type * as lib_providerPool from "../lib/providerPool.js";
import type * as lib_usageTotals from "../lib/usageTotals.js";
import type * as lib_webhooks from "../lib/webhooks.js";
import type * as model_accounts_accountState from "../model/accounts/accountState.js";
import type * as model_accounts_email from "../model/accounts/email.js";
import type * as model_accounts_planChange from "../model/accounts/planChange.js";
import type * as model_apiKeySecrets from "../model/apiKeySecrets.js";
import type * as model_apiKeyStatus from "../model/apiKeyStatus.js";
import type * as model_auth_devIssuer from "../model/auth/devIssuer.js";
import type * as model_auth_devJwt from "../model/auth/devJwt.js";
import type * as model_billing_access from "../model/billing/access.js";
import type * as model_billing_facts from "../model/billing/facts.js";
import type * as model_billing_lifecycle from "../model/billing/lifecycle.js";
import type * as model_billing_ordering from "../model/billing/ordering.js";
import type * as model_billing_overage from "../model/billing/overage.js";
import type * as model_billing_polarEvents from "../model/billing/polarEvents.js";
import type * as model_billing_stripeEvents from "../model/billing/stripeEvents.js";
import type * as model_calendar from "../model/calendar.js";
import type * as model_clerk_webhook from "../model/clerk/webhook.js";
import type * as model_email_series from "../model/email/series.js";
import type * as model_email_templates from "../model/email/templates.js";
import type * as model_email_unsubscribe from "../model/email/unsubscribe.js";
import type * as model_identity_provisioning from "../model/identity/provisioning.js";
import type * as model_identity_secrets from "../model/identity/secrets.js";
import type * as model_identity_telnyxSignature from "../model/identity/telnyxSignature.js";
import type * as model_keyedHash from "../model/keyedHash.js";
import type * as model_plans from "../model/plans.js";
import type * as model_pricing from "../model/pricing.js";
import type * as model_proxy_anthropic from "../model/proxy/anthropic.js";
import type * as model_proxy_breaker from "../model/proxy/breaker.js";
import type * as model_proxy_estimate from "../model/proxy/estimate.js";
import type * as model_proxy_retry from "../model/proxy/retry.js";
import type * as model_proxy_speechVoices from "../model/proxy/speechVoices.js";
import type * as model_proxy_sse from "../model/proxy/sse.js";
import type * as model_proxy_streamRelay from "../model/proxy/streamRelay.js";
import type * as model_quota_admission from "../model/quota/admission.js";
import type * as model_quota_balance from "../model/quota/balance.js";
import type * as model_quota_holds from "../model/quota/holds.js";
import type * as model_rows from "../model/rows.js";
import type * as model_signup_disposable from "../model/signup/disposable.js";
import type * as model_signup_emailIdentity from "../model/signup/emailIdentity.js";
import type * as model_signup_policy from "../model/signup/policy.js";
import type * as model_usage_summary from "../model/usage/summary.js";
import type * as model_usage_totals from "../model/usage/totals.js";
import type * as ops_health from "../ops/health.js";
import type * as providers_ai_anthropic from "../providers/ai/anthropic.js";
import type * as providers_ai_common from "../providers/ai/common.js";
import type * as providers_ai_elevenlabs from "../providers/ai/elevenlabs.js";
import type * as providers_ai_fallbacks from "../providers/ai/fallbacks.js";
import type * as providers_ai_gemini from "../providers/ai/gemini.js";
import type * as providers_ai_openai from "../providers/ai/openai.js";
import type * as providers_ai_registry from "../providers/ai/registry.js";
import type * as providers_ai_types from "../providers/ai/types.js";
import type * as providers_billing_config from "../providers/billing/config.js";
import type * as providers_billing_index from "../providers/billing/index.js";
import type * as providers_billing_polar from "../providers/billing/polar.js";
import type * as providers_billing_stripe from "../providers/billing/stripe.js";
import type * as providers_billing_types from "../providers/billing/types.js";
import type * as providers_email from "../providers/email.js";
import type * as providers_identity_google from "../providers/identity/google.js";
import type * as providers_identity_signal from "../providers/identity/signal.js";
import type * as providers_identity_telnyx from "../providers/identity/telnyx.js";
import type * as providers_identity_types from "../providers/identity/types.js";
import type * as proxy_admission from "../proxy/admission.js";
import type * as proxy_breakers from "../proxy/breakers.js";
import type * as proxy_callers from "../proxy/callers.js";
import type * as proxy_chat from "../proxy/chat.js";
import type * as proxy_embeddings from "../proxy/embeddings.js";
import type * as proxy_models from "../proxy/models.js";
import type * as proxy_providerHealth from "../proxy/providerHealth.js";
import type * as proxy_refusals from "../proxy/refusals.js";
import type * as proxy_request from "../proxy/request.js";
import type * as proxy_respond from "../proxy/respond.js";
import type * as proxy_routes from "../proxy/routes.js";
import type * as proxy_speech from "../proxy/speech.js";
import type * as proxy_upstream from "../proxy/upstream.js";
import type * as quota_ledger from "../quota/ledger.js";
import type * as schema_accounts from "../schema/accounts.js";
import type * as schema_apiKeys from "../schema/apiKeys.js";
import type * as schema_billing from "../schema/billing.js";
import type * as schema_credentials from "../schema/credentials.js";
import type * as schema_identity from "../schema/identity.js";
import type * as schema_oauth from "../schema/oauth.js";
import type * as schema_operations from "../schema/operations.js";
import type * as schema_proxy from "../schema/proxy.js";
import type * as schema_signup from "../schema/signup.js";
import type * as schema_usage from "../schema/usage.js";
import type * as schema_validators from "../schema/validators.js";
import type * as signup_account from "../signup/account.js";
import type * as signup_limits from "../signup/limits.js";
import type * as signup_onboarding from "../signup/onboarding.js";
import type * as usage_alerts from "../usage/alerts.js";
import type * as usage_meters from "../usage/meters.js";
import type * as usage_rollup from "../usage/rollup.js";
import type * as users_viewer from "../users/viewer.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  "admin/accounts": typeof admin_accounts;
  "admin/signup": typeof admin_signup;
  "apiKeys/callers": typeof apiKeys_callers;
  "apiKeys/manage": typeof apiKeys_manage;
  "apiKeys/rotation": typeof apiKeys_rotation;
  "billing/apply": typeof billing_apply;
  "billing/checkout": typeof billing_checkout;
  "billing/customers": typeof billing_customers;
  "billing/dunning": typeof billing_dunning;
  "billing/events": typeof billing_events;
  "billing/overage": typeof billing_overage;
  "billing/overageBill": typeof billing_overageBill;
  "billing/overageExport": typeof billing_overageExport;
  "billing/overageReconcile": typeof billing_overageReconcile;
  "billing/overageSupport": typeof billing_overageSupport;
  "billing/portal": typeof billing_portal;
  "billing/refetch": typeof billing_refetch;
  "billing/sessions": typeof billing_sessions;
  "billing/summary": typeof billing_summary;
  "billing/support": typeof billing_support;
  "billing/trials": typeof billing_trials;
  "billing/view": typeof billing_view;
  "billing/webhooks": typeof billing_webhooks;
  "clerk/events": typeof clerk_events;
  "clerk/webhooks": typeof clerk_webhooks;
  cli: typeof cli;
  crons: typeof crons;
  "devAuth/env": typeof devAuth_env;
  "devAuth/issuer": typeof devAuth_issuer;
  "dexApi/apiKeys": typeof dexApi_apiKeys;
  "dexApi/billing": typeof dexApi_billing;
  "dexApi/routes": typeof dexApi_routes;
  "dexApi/usage": typeof dexApi_usage;
  "email/delivery": typeof email_delivery;
  "email/unsubscribe": typeof email_unsubscribe;
  functions: typeof functions;
  http: typeof http;
  "identity/lifecycle": typeof identity_lifecycle;
  "identity/steps": typeof identity_steps;
  "lib/accounts": typeof lib_accounts;
  "lib/apiKeys": typeof lib_apiKeys;
  "lib/audit": typeof lib_audit;
  "lib/emailOutbox": typeof lib_emailOutbox;
  "lib/errors": typeof lib_errors;
  "lib/providerPool": typeof lib_providerPool;
  "lib/usageTotals": typeof lib_usageTotals;
  "lib/webhooks": typeof lib_webhooks;
  "model/accounts/accountState": typeof model_accounts_accountState;
  "model/accounts/email": typeof model_accounts_email;
  "model/accounts/planChange": typeof model_accounts_planChange;
  "model/apiKeySecrets": typeof model_apiKeySecrets;
  "model/apiKeyStatus": typeof model_apiKeyStatus;
  "model/auth/devIssuer": typeof model_auth_devIssuer;
  "model/auth/devJwt": typeof model_auth_devJwt;
  "model/billing/access": typeof model_billing_access;
  "model/billing/facts": typeof model_billing_facts;
  "model/billing/lifecycle": typeof model_billing_lifecycle;
  "model/billing/ordering": typeof model_billing_ordering;
  "model/billing/overage": typeof model_billing_overage;
  "model/billing/polarEvents": typeof model_billing_polarEvents;
  "model/billing/stripeEvents": typeof model_billing_stripeEvents;
  "model/calendar": typeof model_calendar;
  "model/clerk/webhook": typeof model_clerk_webhook;
  "model/email/series": typeof model_email_series;
  "model/email/templates": typeof model_email_templates;
  "model/email/unsubscribe": typeof model_email_unsubscribe;
  "model/identity/provisioning": typeof model_identity_provisioning;
  "model/identity/secrets": typeof model_identity_secrets;
  "model/identity/telnyxSignature": typeof model_identity_telnyxSignature;
  "model/keyedHash": typeof model_keyedHash;
  "model/plans": typeof model_plans;
  "model/pricing": typeof model_pricing;
  "model/proxy/anthropic": typeof model_proxy_anthropic;
  "model/proxy/breaker": typeof model_proxy_breaker;
  "model/proxy/estimate": typeof model_proxy_estimate;
  "model/proxy/retry": typeof model_proxy_retry;
  "model/proxy/speechVoices": typeof model_proxy_speechVoices;
  "model/proxy/sse": typeof model_proxy_sse;
  "model/proxy/streamRelay": typeof model_proxy_streamRelay;
  "model/quota/admission": typeof model_quota_admission;
  "model/quota/balance": typeof model_quota_balance;
  "model/quota/holds": typeof model_quota_holds;
  "model/rows": typeof model_rows;
  "model/signup/disposable": typeof model_signup_disposable;
  "model/signup/emailIdentity": typeof model_signup_emailIdentity;
  "model/signup/policy": typeof model_signup_policy;
  "model/usage/summary": typeof model_usage_summary;
  "model/usage/totals": typeof model_usage_totals;
  "ops/health": typeof ops_health;
  "providers/ai/anthropic": typeof providers_ai_anthropic;
  "providers/ai/common": typeof providers_ai_common;
  "providers/ai/elevenlabs": typeof providers_ai_elevenlabs;
  "providers/ai/fallbacks": typeof providers_ai_fallbacks;
  "providers/ai/gemini": typeof providers_ai_gemini;
  "providers/ai/openai": typeof providers_ai_openai;
  "providers/ai/registry": typeof providers_ai_registry;
  "providers/ai/types": typeof providers_ai_types;
  "providers/billing/config": typeof providers_billing_config;
  "providers/billing/index": typeof providers_billing_index;
  "providers/billing/polar": typeof providers_billing_polar;
  "providers/billing/stripe": typeof providers_billing_stripe;
  "providers/billing/types": typeof providers_billing_types;
  "providers/email": typeof providers_email;
  "providers/identity/google": typeof providers_identity_google;
  "providers/identity/signal": typeof providers_identity_signal;
  "providers/identity/telnyx": typeof providers_identity_telnyx;
  "providers/identity/types": typeof providers_identity_types;
  "proxy/admission": typeof proxy_admission;
  "proxy/breakers": typeof proxy_breakers;
  "proxy/callers": typeof proxy_callers;
  "proxy/chat": typeof proxy_chat;
  "proxy/embeddings": typeof proxy_embeddings;
  "proxy/models": typeof proxy_models;
  "proxy/providerHealth": typeof proxy_providerHealth;
  "proxy/refusals": typeof proxy_refusals;
  "proxy/request": typeof proxy_request;
  "proxy/respond": typeof proxy_respond;
  "proxy/routes": typeof proxy_routes;
  "proxy/speech": typeof proxy_speech;
  "proxy/upstream": typeof proxy_upstream;
  "quota/ledger": typeof quota_ledger;
  "schema/accounts": typeof schema_accounts;
  "schema/apiKeys": typeof schema_apiKeys;
  "schema/billing": typeof schema_billing;
  "schema/credentials": typeof schema_credentials;
  "schema/identity": typeof schema_identity;
  "schema/oauth": typeof schema_oauth;
  "schema/operations": typeof schema_operations;
  "schema/proxy": typeof schema_proxy;
  "schema/signup": typeof schema_signup;
  "schema/usage": typeof schema_usage;
  "schema/validators": typeof schema_validators;
  "signup/account": typeof signup_account;
  "signup/limits": typeof signup_limits;
  "signup/onboarding": typeof signup_onboarding;
  "usage/alerts": typeof usage_alerts;
  "usage/meters": typeof usage_meters;
  "usage/rollup": typeof usage_rollup;
  "users/viewer": typeof users_viewer;
}>;
export declare const api: FilterApi<
  typeof fullApi,
  FunctionReference<any, "public">
>;
export declare const internal: FilterApi<
  typeof fullApi,
  FunctionReference<any, "internal">
>;

export declare const components: {
  rateLimiter: import("@convex-dev/rate-limiter/_generated/component.js").ComponentApi<"rateLimiter">;
  providerPool: import("@convex-dev/workpool/_generated/component.js").ComponentApi<"providerPool">;
};
