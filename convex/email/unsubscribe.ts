// The unsubscribe link of marketing mail: GET /email/unsubscribe?token=... (the link people
// click) and POST to the same URL (RFC 8058 one-click, sent by mailbox providers from the
// List-Unsubscribe header). Both verify the signed token and set users.marketingOptOutAt in one
// internal mutation. Transactional mail (welcome, receipts, alerts) ignores the opt-out.
import type { HttpRouter } from "convex/server";
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { env, httpAction, type ActionCtx, type MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { audit } from "../lib/audit";
import { escapeHtml } from "../model/email/templates";
import { verifyUnsubscribeToken } from "../model/email/unsubscribe";

const optOutResult = v.union(v.literal("unsubscribed"), v.literal("invalid"));

async function optOutHandler(ctx: MutationCtx, args: { token: string }): Promise<"unsubscribed" | "invalid"> {
  const verified = await verifyUnsubscribeToken(env.ENCRYPTION_KEY ?? "", args.token);
  if (verified === null) return "invalid";
  const userId: Id<"users"> | null = ctx.db.normalizeId("users", verified.userId);
  // A genuine token of an account deleted since: it gets no mail at all, which is what was asked.
  const user = userId === null ? null : await ctx.db.get("users", userId);
  if (user === null) return "unsubscribed";
  // The first opt-out's time is kept: a second click (or the provider's POST after the person's
  // GET) changes nothing.
  if (user.marketingOptOutAt === undefined) {
    await ctx.db.patch("users", user._id, { marketingOptOutAt: Date.now() });
    await audit(ctx, { id: user._id, label: user.email }, "email.unsubscribed", { type: "user", id: user._id }, "unsubscribe link");
  }
  return "unsubscribed";
}

export const optOut = internalMutation({
  args: { token: v.string() },
  returns: optOutResult,
  handler: optOutHandler,
});

function page(status: number, title: string, message: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title></head>
<body style="font-family:system-ui,-apple-system,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;line-height:1.5;color:#18181b">
<h1 style="font-size:1.25rem">${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>
</body></html>`;
  return new Response(html, {
    status,
    headers: {
      "content-type": "text/html; charset=utf-8",
      // The page carries nothing secret, but the token is in the URL: keep it out of caches.
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
      "x-content-type-options": "nosniff",
    },
  });
}

function done(): Response {
  return page(200, "You are unsubscribed", "You will no longer get tips and reminders from Poindexter. Receipts and alerts still arrive.");
}

function invalid(): Response {
  return page(
    400,
    "This unsubscribe link is not valid",
    "The link is incomplete or was changed, so nothing was changed on your account. Use the Unsubscribe link of the latest mail from Poindexter, copied whole, or reply to that mail and we will unsubscribe you.",
  );
}

/**
 * GET: the link a person clicks. POST: RFC 8058 one-click from the List-Unsubscribe header (its
 * body is "List-Unsubscribe=One-Click"; the token is in the URL either way).
 */
async function unsubscribeHandler(ctx: ActionCtx, request: Request): Promise<Response> {
  const token = new URL(request.url).searchParams.get("token");
  if (!token) return invalid();
  const outcome = await ctx.runMutation(internal.email.unsubscribe.optOut, { token });
  return outcome === "unsubscribed" ? done() : invalid();
}

const unsubscribeRoute = httpAction(unsubscribeHandler);

export function mountEmailRoutes(http: HttpRouter): void {
  http.route({ path: "/email/unsubscribe", method: "GET", handler: unsubscribeRoute });
  http.route({ path: "/email/unsubscribe", method: "POST", handler: unsubscribeRoute });
}
