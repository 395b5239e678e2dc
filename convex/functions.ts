// The only place that imports Convex's raw builders for public functions.
// Every public query/mutation goes through a builder here, which resolves the
// caller from ctx.auth; handlers receive ctx.user and never take a userId to
// decide who is asking.
import {
  customAction,
  customCtx,
  customMutation,
  customQuery,
} from "convex-helpers/server/customFunctions";
import { makeFunctionReference, type UserIdentity } from "convex/server";
import {
  action,
  internalMutation as rawInternalMutation,
  internalQuery as rawInternalQuery,
  internalAction as rawInternalAction,
  mutation,
  query,
  type QueryCtx,
} from "./_generated/server";
import type { Doc } from "./_generated/dataModel";
import { type Role, userFromIdentity } from "./lib/accounts";
import { fail } from "./lib/errors";

export type { Role };

const ROLE_RANK: Record<Role, number> = { user: 0, support: 1, admin: 2 };

export function hasRole(user: Doc<"users">, role: Role): boolean {
  return ROLE_RANK[user.role] >= ROLE_RANK[role];
}

export async function requireIdentity(ctx: {
  auth: { getUserIdentity(): Promise<UserIdentity | null> };
}): Promise<UserIdentity> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) {
    fail("UNAUTHENTICATED", "You are not signed in. Sign in and try again.");
  }
  return identity;
}

async function requireUser(ctx: QueryCtx, role: Role): Promise<Doc<"users">> {
  const identity = await requireIdentity(ctx);
  const user = await userFromIdentity(ctx, identity);
  if (user === null) {
    fail(
      "ACCOUNT_NOT_FOUND",
      "Your account is not set up yet. Reload the page to finish signing in.",
    );
  }
  if (!hasRole(user, role)) {
    fail("FORBIDDEN", `This needs the ${role} role; your role is ${user.role}.`);
  }
  return user;
}

function roleCtx(role: Role) {
  return customCtx(async (ctx: QueryCtx) => ({ user: await requireUser(ctx, role) }));
}

/**
 * Marks every function a builder makes with the access level it enforces, so the
 * access test can walk the whole public API and prove each level (a property on the
 * registered function object; Convex ignores it).
 */
export type AccessLevel = "identity" | Role;
export const ACCESS_LEVEL = "__poindexterAccess";

function tagged<B extends (...args: any[]) => any>(builder: B, level: AccessLevel): B {
  return ((...args: Parameters<B>) => {
    const fn = builder(...args);
    Object.defineProperty(fn, ACCESS_LEVEL, { value: level, enumerable: false });
    return fn;
  }) as B;
}

/** Signed-in callers with an account row. */
export const userQuery = tagged(customQuery(query, roleCtx("user")), "user");
export const userMutation = tagged(customMutation(mutation, roleCtx("user")), "user");
/** Support agents and admins. */
export const supportQuery = tagged(customQuery(query, roleCtx("support")), "support");
export const supportMutation = tagged(customMutation(mutation, roleCtx("support")), "support");
/** Admins only. */
export const adminQuery = tagged(customQuery(query, roleCtx("admin")), "admin");
export const adminMutation = tagged(customMutation(mutation, roleCtx("admin")), "admin");

/** Signed in, account row optional: used only to create the row on first sign-in. */
export const identityMutation = tagged(
  customMutation(
    mutation,
    customCtx(async (ctx) => ({ identity: await requireIdentity(ctx) })),
  ),
  "identity",
);
export const identityQuery = tagged(
  customQuery(
    query,
    customCtx(async (ctx) => ({ identity: await requireIdentity(ctx) })),
  ),
  "identity",
);

// Referenced by name rather than through `internal`: this file is itself part of the
// generated API type, and going through it here would make that type circular.
const userByTokenIdentifier = makeFunctionReference<
  "query",
  { tokenIdentifier: string },
  Doc<"users"> | null
>("users/viewer:findByTokenIdentifier");

/** Actions cannot read the db: resolve the caller through an internal query. */
export const userAction = tagged(customAction(
  action,
  customCtx(async (ctx) => {
    const identity = await requireIdentity(ctx);
    const user = await ctx.runQuery(userByTokenIdentifier, {
      tokenIdentifier: identity.tokenIdentifier,
    });
    if (user === null) {
      fail("ACCOUNT_NOT_FOUND", "Your account is not set up yet. Reload the page to finish signing in.");
    }
    return { user };
  }),
), "user");

// Internal functions are unreachable from clients (scheduler, crons, httpActions, CLI).
export const internalQuery = rawInternalQuery;
export const internalMutation = rawInternalMutation;
export const internalAction = rawInternalAction;
