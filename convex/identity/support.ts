// The admin console's identity panel: an account's identity rows with every step (attempts from
// the workpool for running ones), and support's actions, each with a reason in the audit log.
import { v } from "convex/values";
import { supportMutation, supportQuery } from "../functions";
import { requireAccount } from "../lib/accounts";
import { actorOf } from "../lib/audit";
import { identityStepNameValidator } from "../schema/identity";
import { identitiesOf } from "./lifecycle";
import { forceDeprovision as forceDeprovisionFor, provisionByHand, rerunStep as rerunStepFor } from "./manage";
import { supportIdentityOf, supportIdentityValidator } from "./views";

/** Newest first: the live identity, then older ones (deprovisioning or deprovisioned). */
export const get = supportQuery({
  args: { userId: v.id("users") },
  returns: v.array(supportIdentityValidator),
  handler: async (ctx, { userId }) => {
    await requireAccount(ctx, userId);
    return await Promise.all((await identitiesOf(ctx, userId)).map((row) => supportIdentityOf(ctx, row)));
  },
});

export const rerunStep = supportMutation({
  args: { userId: v.id("users"), step: identityStepNameValidator, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, step, reason }) => {
    await rerunStepFor(ctx, await requireAccount(ctx, userId), step, actorOf(ctx.user), reason);
    return null;
  },
});

export const provision = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    await provisionByHand(ctx, await requireAccount(ctx, userId), actorOf(ctx.user), reason);
    return null;
  },
});

export const forceDeprovision = supportMutation({
  args: { userId: v.id("users"), reason: v.string() },
  returns: v.null(),
  handler: async (ctx, { userId, reason }) => {
    await forceDeprovisionFor(ctx, await requireAccount(ctx, userId), actorOf(ctx.user), reason);
    return null;
  },
});
