import { httpAction } from "./_generated/server";

/** Liveness: the deployment answers HTTP. */
export const healthz = httpAction(async () =>
  new Response(JSON.stringify({ ok: true }), {
    status: 200,
    headers: { "content-type": "application/json" },
  }),
);
