/// <reference types="vite/client" />
// The one place tests build a Convex test backend: the app's schema and modules
// plus every component from convex.config.ts, registered under the same names.
import { convexTest } from "convex-test";
import rateLimiterTest from "@convex-dev/rate-limiter/test";
import workpoolTest from "@convex-dev/workpool/test";
import schema from "./schema";

// Every file under convex/; convex-test loads a module only when a function in it is called.
export const modules = import.meta.glob("./**/*.*s");

export function newTest() {
  const t = convexTest(schema, modules);
  rateLimiterTest.register(t, "rateLimiter");
  workpoolTest.register(t, "providerPool");
  return t;
}

export type TestConvex = ReturnType<typeof newTest>;

/** A signed-in caller with an account row, as the SPA would have after sign-in. */
export async function signIn(
  t: TestConvex,
  email: string,
  role: "user" | "support" | "admin" = "user",
) {
  const subject = `test|${email}`;
  const userId = await t.run(async (ctx) =>
    ctx.db.insert("users", {
      tokenIdentifier: `https://test.local|${subject}`,
      email,
      role,
      state: "trial",
      plan: "trial",
      lastSeenAt: Date.now(),
    }),
  );
  const as = t.withIdentity({ subject, issuer: "https://test.local", email });
  return { userId, as };
}
