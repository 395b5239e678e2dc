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
import type * as accounts from "../accounts.js";
import type * as admin from "../admin.js";
import type * as alerts from "../alerts.js";
import type * as apiKeys from "../apiKeys.js";
import type * as crons from "../crons.js";
import type * as devAuth from "../devAuth.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as model_accountState from "../model/accountState.js";
import type * as model_apiKeyTokens from "../model/apiKeyTokens.js";
import type * as model_devJwt from "../model/devJwt.js";
import type * as model_email from "../model/email.js";
import type * as model_estimate from "../model/estimate.js";
import type * as model_planChange from "../model/planChange.js";
import type * as model_plans from "../model/plans.js";
import type * as model_pricing from "../model/pricing.js";
import type * as model_quota from "../model/quota.js";
import type * as model_sse from "../model/sse.js";
import type * as model_usageMath from "../model/usageMath.js";
import type * as ops from "../ops.js";
import type * as providers_openai from "../providers/openai.js";
import type * as providers_types from "../providers/types.js";
import type * as proxy_admission from "../proxy/admission.js";
import type * as proxy_chat from "../proxy/chat.js";
import type * as proxy_dexApi from "../proxy/dexApi.js";
import type * as proxy_embeddings from "../proxy/embeddings.js";
import type * as proxy_respond from "../proxy/respond.js";
import type * as proxy_routes from "../proxy/routes.js";
import type * as proxy_speech from "../proxy/speech.js";
import type * as proxy_upstream from "../proxy/upstream.js";
import type * as quota from "../quota.js";
import type * as usage from "../usage.js";
import type * as users from "../users.js";

/**
 * A utility for referencing Convex functions in your app's API.
 *
 * Usage:
 * ```js
 * const myFunctionReference = api.myModule.myFunction;
 * ```
 */
declare const fullApi: ApiFromModules<{
  accounts: typeof accounts;
  admin: typeof admin;
  alerts: typeof alerts;
  apiKeys: typeof apiKeys;
  crons: typeof crons;
  devAuth: typeof devAuth;
  functions: typeof functions;
  http: typeof http;
  "model/accountState": typeof model_accountState;
  "model/apiKeyTokens": typeof model_apiKeyTokens;
  "model/devJwt": typeof model_devJwt;
  "model/email": typeof model_email;
  "model/estimate": typeof model_estimate;
  "model/planChange": typeof model_planChange;
  "model/plans": typeof model_plans;
  "model/pricing": typeof model_pricing;
  "model/quota": typeof model_quota;
  "model/sse": typeof model_sse;
  "model/usageMath": typeof model_usageMath;
  ops: typeof ops;
  "providers/openai": typeof providers_openai;
  "providers/types": typeof providers_types;
  "proxy/admission": typeof proxy_admission;
  "proxy/chat": typeof proxy_chat;
  "proxy/dexApi": typeof proxy_dexApi;
  "proxy/embeddings": typeof proxy_embeddings;
  "proxy/respond": typeof proxy_respond;
  "proxy/routes": typeof proxy_routes;
  "proxy/speech": typeof proxy_speech;
  "proxy/upstream": typeof proxy_upstream;
  quota: typeof quota;
  usage: typeof usage;
  users: typeof users;
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
