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
import type * as apiKeys from "../apiKeys.js";
import type * as devAuth from "../devAuth.js";
import type * as functions from "../functions.js";
import type * as http from "../http.js";
import type * as model_accountState from "../model/accountState.js";
import type * as model_apiKeyTokens from "../model/apiKeyTokens.js";
import type * as model_devJwt from "../model/devJwt.js";
import type * as model_estimate from "../model/estimate.js";
import type * as model_planChange from "../model/planChange.js";
import type * as model_plans from "../model/plans.js";
import type * as model_pricing from "../model/pricing.js";
import type * as model_quota from "../model/quota.js";
import type * as model_sse from "../model/sse.js";
import type * as model_usageMath from "../model/usageMath.js";
import type * as ops from "../ops.js";
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
  apiKeys: typeof apiKeys;
  devAuth: typeof devAuth;
  functions: typeof functions;
  http: typeof http;
  "model/accountState": typeof model_accountState;
  "model/apiKeyTokens": typeof model_apiKeyTokens;
  "model/devJwt": typeof model_devJwt;
  "model/estimate": typeof model_estimate;
  "model/planChange": typeof model_planChange;
  "model/plans": typeof model_plans;
  "model/pricing": typeof model_pricing;
  "model/quota": typeof model_quota;
  "model/sse": typeof model_sse;
  "model/usageMath": typeof model_usageMath;
  ops: typeof ops;
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
