// How a benchmark signs a simulated person in, as the SPA does with the dev issuer: a token from
// the deployment's own POST /dev-auth/token (DEV_AUTH=true, which the bench stack's env sets),
// then a ConvexClient authenticated with it before anything is timed.
import type { ConvexClient } from "convex/browser";

export async function devToken(site: string, email: string): Promise<string> {
  const response = await fetch(`${site}/dev-auth/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ email, role: "user" }),
  });
  if (!response.ok) throw new Error(`dev-auth/token answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}

/** Resolves once the deployment accepted `token` on this client's connection (30 s at most). */
export async function authenticate(client: ConvexClient, token: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the client was not authenticated within 30 s")), 30_000);
    client.setAuth(
      async () => token,
      (authenticated) => {
        if (!authenticated) return;
        clearTimeout(timer);
        resolve();
      },
    );
  });
}
