// Every mail the app sends, rendered from what the account has done at send time. Pure: the
// delivery action gathers the facts (email/delivery.ts) and this module turns them into a
// subject, an HTML body and a text body. Mails never carry a key's secret, only its prefix.
import { PLANS, type Feature, type PlanId } from "../plans";
import type { EmailCategory, EmailTemplate } from "./series";

export interface MailFacts {
  /** The dashboard (APP_URL), without a trailing slash. */
  appUrl: string;
  /** The base URL Dex is configured with: `${CONVEX_SITE_URL}/v1`. */
  apiBaseUrl: string;
  /** The address the mail goes to (user-provided: escaped like every value). */
  email: string;
  plan: PlanId;
  trialEndsAt: number | null;
  /** The display prefix of the account's first live key, if it still has one. */
  keyPrefix: string | null;
  /** Everything the account has used since it was created. */
  usage: { requests: number; tokens: number };
  /** The signed unsubscribe link; marketing mail is not rendered without one. */
  unsubscribeUrl: string | null;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

/** Text in HTML: user-provided and URL values are always passed through this. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** 1234567 -> "1,234,567" (no Intl: the same output in every runtime). */
export function formatCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** 500000 -> "500K", 5000000 -> "5M", 2500000 -> "2.5M". */
export function formatTokens(n: number): string {
  if (n >= 1_000_000) return `${+(n / 1_000_000).toFixed(1)}M`;
  if (n >= 1_000) return `${+(n / 1_000).toFixed(1)}K`;
  return String(n);
}

/** 1795478400000 -> "November 24, 2026" (UTC). */
export function formatDate(at: number): string {
  const d = new Date(at);
  const months = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
  return `${months[d.getUTCMonth()]} ${d.getUTCDate()}, ${d.getUTCFullYear()}`;
}

const FEATURE_NAMES: Record<Feature, string> = {
  ai: "the AI API",
  email: "an email address",
  calendar: "a calendar",
  phone: "a phone number for SMS",
  signal: "Signal",
  priority_support: "priority support",
};

// A mail is a list of blocks, each rendered once as HTML and once as text, so the two versions
// cannot drift apart.
type Block =
  | { kind: "p"; parts: Inline[] }
  | { kind: "steps"; items: Inline[][] }
  | { kind: "list"; items: Inline[][] }
  | { kind: "small"; parts: Inline[] };
type Inline = string | { code: string } | { link: string; label: string } | { strong: string };

function inlineHtml(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return escapeHtml(p);
      if ("code" in p) return `<code style="background:#f4f4f5;padding:1px 4px;border-radius:3px">${escapeHtml(p.code)}</code>`;
      if ("strong" in p) return `<strong>${escapeHtml(p.strong)}</strong>`;
      return `<a href="${escapeHtml(p.link)}">${escapeHtml(p.label)}</a>`;
    })
    .join("");
}

function inlineText(parts: Inline[]): string {
  return parts
    .map((p) => {
      if (typeof p === "string") return p;
      if ("code" in p) return p.code;
      if ("strong" in p) return p.strong;
      return p.label === p.link ? p.link : `${p.label} (${p.link})`;
    })
    .join("");
}

function toHtml(subject: string, blocks: Block[]): string {
  const body = blocks
    .map((b) => {
      switch (b.kind) {
        case "p":
          return `<p>${inlineHtml(b.parts)}</p>`;
        case "small":
          return `<p style="color:#666;font-size:12px">${inlineHtml(b.parts)}</p>`;
        case "steps":
          return `<ol>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("")}</ol>`;
        case "list":
          return `<ul>${b.items.map((i) => `<li>${inlineHtml(i)}</li>`).join("")}</ul>`;
      }
    })
    .join("\n");
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head>
<body style="font-family:system-ui,-apple-system,sans-serif;line-height:1.5;max-width:560px;margin:0 auto;padding:16px;color:#18181b">
${body}
</body></html>`;
}

function toText(blocks: Block[]): string {
  return (
    blocks
      .map((b) => {
        switch (b.kind) {
          case "p":
          case "small":
            return inlineText(b.parts);
          case "steps":
            return b.items.map((i, n) => `${n + 1}. ${inlineText(i)}`).join("\n");
          case "list":
            return b.items.map((i) => `- ${inlineText(i)}`).join("\n");
        }
      })
      .join("\n\n") + "\n"
  );
}

function keyLine(f: MailFacts): Inline[] {
  return f.keyPrefix === null
    ? ["Create an API key on the ", { link: `${f.appUrl}/keys`, label: "Keys page" }, " and copy it (it is shown once)."]
    : [
        "Your first API key starts with ",
        { code: f.keyPrefix },
        ". It was shown once when it was made; if you did not copy it, revoke it and create a new one on the ",
        { link: `${f.appUrl}/keys`, label: "Keys page" },
        ".",
      ];
}

/** The three steps from a new account to a first request. */
function setupSteps(f: MailFacts): Block[] {
  return [
    {
      kind: "steps",
      items: [
        keyLine(f),
        ["In Dex, open the provider settings, set the base URL to ", { code: f.apiBaseUrl }, " and paste the key."],
        ["Ask Dex anything. The request shows up on your ", { link: `${f.appUrl}/`, label: "dashboard" }, " within seconds."],
      ],
    },
  ];
}

function trialLine(f: MailFacts): Inline[] {
  const plan = PLANS[f.plan];
  if (f.plan !== "trial") return [`You are on the ${plan.name} plan: ${formatTokens(plan.includedTokens)} tokens a month included.`];
  const until = f.trialEndsAt === null ? "" : `, until ${formatDate(f.trialEndsAt)}`;
  return [`Your trial includes ${formatTokens(plan.includedTokens)} tokens${until}.`];
}

/** What each plan above the account's adds, from the plan table. */
function upgradeBlocks(f: MailFacts): Block[] {
  const current = PLANS[f.plan];
  const better = Object.values(PLANS).filter((p) => p.priceMicrosPerMonth > current.priceMicrosPerMonth);
  if (better.length === 0) return [];
  const items = better.map((p): Inline[] => {
    const added = p.features.filter((x) => !current.features.includes(x)).map((x) => FEATURE_NAMES[x]);
    return [
      { strong: `${p.name}, $${formatCount(p.priceMicrosPerMonth / 1_000_000)}/month` },
      `: ${formatTokens(p.includedTokens)} tokens included, ${formatCount(p.limits.requestsPerMinute)} requests a minute`,
      added.length > 0 ? `, plus ${added.join(", ")}.` : ".",
    ];
  });
  return [
    { kind: "p", parts: ["What the paid plans add:"] },
    { kind: "list", items },
    { kind: "p", parts: ["Choose a plan from your ", { link: `${f.appUrl}/`, label: "dashboard" }, "."] },
  ];
}

function usageBlocks(f: MailFacts): Block[] {
  return [
    {
      kind: "p",
      parts: [
        "So far Dex has made ",
        { strong: `${formatCount(f.usage.requests)} request${f.usage.requests === 1 ? "" : "s"}` },
        " through Poindexter, using ",
        { strong: `${formatCount(f.usage.tokens)} tokens` },
        ". The live numbers are on the ",
        { link: `${f.appUrl}/usage`, label: "Usage page" },
        ".",
      ],
    },
    { kind: "p", parts: trialLine(f) },
    ...upgradeBlocks(f),
  ];
}

function footer(category: EmailCategory, f: MailFacts): Block[] {
  if (category === "transactional") {
    return [{ kind: "small", parts: [`You get this mail because ${f.email} has a Poindexter account.`] }];
  }
  return [
    {
      kind: "small",
      parts: [
        `Tips and reminders for ${f.email} about your Poindexter account. `,
        { link: f.unsubscribeUrl ?? "", label: "Unsubscribe" },
        " from these; receipts and alerts still arrive.",
      ],
    },
  ];
}

function compose(template: EmailTemplate, f: MailFacts): { subject: string; blocks: Block[] } {
  const started = f.usage.requests > 0;
  switch (template) {
    case "welcome":
      return {
        subject: "Welcome to Poindexter: your API key is ready",
        blocks: [
          { kind: "p", parts: ["Welcome to Poindexter. Your account is ready, and so is your first API key."] },
          { kind: "p", parts: trialLine(f) },
          ...setupSteps(f),
          { kind: "p", parts: ["Your ", { link: `${f.appUrl}/`, label: "dashboard" }, " shows your keys, usage and plan."] },
        ],
      };
    case "followup_24h":
      return started
        ? { subject: "Your first day with Poindexter", blocks: [{ kind: "p", parts: ["Dex is connected. Here is your first day:"] }, ...usageBlocks(f)] }
        : {
            subject: "Connect Dex to Poindexter in three steps",
            blocks: [{ kind: "p", parts: ["Dex has not made a request through Poindexter yet. Three steps, two minutes:"] }, ...setupSteps(f)],
          };
    case "followup_72h":
      return started
        ? { subject: "Three days in: your Poindexter usage", blocks: [{ kind: "p", parts: ["Three days in, here is where you are:"] }, ...usageBlocks(f)] }
        : {
            subject: "Still setting up? Your Poindexter key is waiting",
            blocks: [
              { kind: "p", parts: ["Your account is ready but Dex has not used it yet. If something got in the way, these are the steps:"] },
              ...setupSteps(f),
              { kind: "p", parts: ["Stuck on one of them? Reply to this mail and we will help."] },
            ],
          };
    case "followup_1w":
      return started
        ? { subject: "Your first week with Poindexter", blocks: [{ kind: "p", parts: ["One week in:"] }, ...usageBlocks(f)] }
        : {
            subject: "Your Poindexter trial has not started yet",
            blocks: [
              { kind: "p", parts: ["A week ago you created a Poindexter account; Dex has not made a request yet."] },
              { kind: "p", parts: trialLine(f) },
              ...setupSteps(f),
            ],
          };
    case "trial_ending": {
      const when = f.trialEndsAt === null ? "soon" : `on ${formatDate(f.trialEndsAt)}`;
      return {
        subject: `Your Poindexter trial ends ${when}`,
        blocks: [
          {
            kind: "p",
            parts: [`Your Poindexter trial ends ${when}. After that, Dex's requests through Poindexter stop until you choose a plan.`],
          },
          ...upgradeBlocks(f),
          { kind: "p", parts: ["Choose a plan on the ", { link: `${f.appUrl}/billing`, label: "Billing page" }, ". Your keys and settings stay as they are."] },
        ],
      };
    }
  }
}

/**
 * Renders one mail. Marketing mail needs its unsubscribe link: rendering one without it throws,
 * so no tip can go out that cannot be stopped.
 */
export function renderEmail(template: EmailTemplate, category: EmailCategory, facts: MailFacts): RenderedMail {
  if (category === "marketing" && !facts.unsubscribeUrl) throw new Error(`${template} is marketing mail and needs an unsubscribe link.`);
  const { subject, blocks } = compose(template, facts);
  const all = [...blocks, { kind: "p", parts: ["The Poindexter team"] } as Block, ...footer(category, facts)];
  return { subject, html: toHtml(subject, all), text: toText(all) };
}
