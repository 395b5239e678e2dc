// Client configuration from Vite env (VITE_*), with the offline runtime's defaults.
export const CONVEX_URL: string = import.meta.env.VITE_CONVEX_URL || "http://127.0.0.1:3210";

export const CONVEX_SITE_URL: string = (
  import.meta.env.VITE_CONVEX_SITE_URL || "http://127.0.0.1:3211"
).replace(/\/+$/, "");

/** Set in production: Clerk signs people in. Unset: the dev sign-in screen is used. */
export const CLERK_PUBLISHABLE_KEY: string | undefined =
  import.meta.env.VITE_CLERK_PUBLISHABLE_KEY || undefined;
