// What model/auth/devIssuer.ts decides from, read from this deployment.
import type { DevAuthEnv } from "../model/auth/devIssuer";
import { env } from "../_generated/server";

export function devAuthEnv(): DevAuthEnv {
  // A system variable that Convex sets on every deployment, so it is not declared in
  // convex.config.ts with the app's own variables.
  // eslint-disable-next-line @convex-dev/no-process-env
  return { DEV_AUTH: env.DEV_AUTH, CONVEX_SITE_URL: process.env.CONVEX_SITE_URL };
}
