/**
 * Captured mail: every message sent through the simulated Gmail API or the transactional email
 * API lands here, viewable at `/_sim/inbox` (HTML) and `/_sim/inbox.json`. Also the RFC 2822
 * parsing both senders need.
 */
import { randomBytes } from "node:crypto";
import { SimHttpError, sendJson, type ProviderFormat, type Route, type RouteContext } from "./http.ts";
import { controlFormat } from "./control.ts";
import type { SimulatorState } from "./state.ts";

export interface CapturedMail {
  id: string;
  at: number;
  via: "gmail" | "email-api";
  from: string;
  to: string[];
  cc: string[];
  subject: string;
  text: string;
  html: string | null;
  headers: Record<string, string>;
}

const stores = new WeakMap<SimulatorState, CapturedMail[]>();

export function capturedMail(state: SimulatorState): CapturedMail[] {
  let store = stores.get(state);
  if (!store) {
    const created: CapturedMail[] = [];
    store = created;
    stores.set(state, created);
    state.onReset(() => created.splice(0));
  }
  return store;
}

export function captureMail(state: SimulatorState, mail: Omit<CapturedMail, "id" | "at">): CapturedMail {
  const captured = { ...mail, id: randomBytes(8).toString("hex"), at: Date.now() };
  capturedMail(state).push(captured);
  return captured;
}

/** Splits "a@x, B <b@y>" into bare addresses. */
export function addresses(header: string | undefined): string[] {
  if (!header) return [];
  return header
    .split(",")
    .map((part) => (/<([^>]+)>/.exec(part)?.[1] ?? part).trim().toLowerCase())
    .filter((a) => a.includes("@"));
}

function decodeBody(body: string, encoding: string | undefined): string {
  const e = encoding?.toLowerCase();
  if (e === "base64") return Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8");
  if (e === "quoted-printable") {
    // =XX escapes are bytes of the charset (UTF-8 here), so decode to bytes first.
    const text = body.replace(/=\r?\n/g, "");
    const bytes: number[] = [];
    for (let i = 0; i < text.length; i++) {
      const hex = text.slice(i + 1, i + 3);
      if (text[i] === "=" && /^[0-9A-F]{2}$/i.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
      } else bytes.push(...Buffer.from(text[i]));
    }
    return Buffer.from(bytes).toString("utf8");
  }
  return body;
}

function splitHeaders(block: string): Record<string, string> {
  const headers: Record<string, string> = {};
  // Folded header lines continue with whitespace.
  for (const line of block.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return headers;
}

/** Parses an RFC 2822 message: headers, plus the text/plain and text/html parts (one level of multipart). */
export function parseRfc2822(raw: string): { headers: Record<string, string>; text: string; html: string | null } {
  const split = raw.search(/\r?\n\r?\n/);
  const headerBlock = split < 0 ? raw : raw.slice(0, split);
  const body = split < 0 ? "" : raw.slice(split).replace(/^\r?\n\r?\n/, "");
  const headers = splitHeaders(headerBlock);
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (!type.toLowerCase().startsWith("multipart/") || !boundary) {
    const decoded = decodeBody(body, headers["content-transfer-encoding"]);
    return type.toLowerCase().startsWith("text/html") ? { headers, text: decoded.replace(/<[^>]+>/g, ""), html: decoded } : { headers, text: decoded, html: null };
  }
  let text = "";
  let html: string | null = null;
  for (const part of body.split(`--${boundary}`).slice(1)) {
    if (part.startsWith("--")) break;
    const p = part.replace(/^\r?\n/, "");
    const at = p.search(/\r?\n\r?\n/);
    if (at < 0) continue;
    const partHeaders = splitHeaders(p.slice(0, at));
    const content = decodeBody(p.slice(at).replace(/^\r?\n\r?\n/, "").replace(/\r?\n$/, ""), partHeaders["content-transfer-encoding"]);
    const partType = (partHeaders["content-type"] ?? "text/plain").toLowerCase();
    if (partType.startsWith("text/plain") && !text) text = content;
    else if (partType.startsWith("text/html") && html === null) html = content;
  }
  return { headers, text: text || (html ?? "").replace(/<[^>]+>/g, ""), html };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function inboxPage(ctx: RouteContext): Promise<void> {
  const mail = [...capturedMail(ctx.state)].reverse();
  const rows = mail
    .map(
      (m) => `<article><h2>${escapeHtml(m.subject || "(no subject)")}</h2>
<p><small>${new Date(m.at).toISOString()} via ${m.via}</small><br>From: ${escapeHtml(m.from)}<br>To: ${escapeHtml(m.to.join(", "))}</p>
<pre>${escapeHtml(m.text)}</pre></article>`,
    )
    .join("<hr>");
  ctx.res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  ctx.res.end(`<!doctype html><html><head><meta charset="utf-8"><title>Captured mail (${mail.length})</title>
<style>body{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;padding:0 1rem}pre{white-space:pre-wrap;background:#f6f6f6;padding:.75rem}</style>
</head><body><h1>Captured mail</h1><p>${mail.length} message(s); newest first. Nothing here left this machine.</p>${rows || "<p>No mail yet.</p>"}</body></html>`);
}

async function inboxJson(ctx: RouteContext): Promise<void> {
  const to = ctx.url.searchParams.get("to")?.toLowerCase();
  const mail = capturedMail(ctx.state).filter((m) => !to || m.to.includes(to) || m.cc.includes(to));
  sendJson(ctx.res, 200, { messages: mail });
}

export const mailboxControlRoutes: Route[] = [
  { method: "GET", path: /^\/_sim\/inbox$/, provider: controlFormat, handle: inboxPage },
  { method: "GET", path: /^\/_sim\/inbox\.json$/, provider: controlFormat, handle: inboxJson },
];

/**
 * A transactional email API in Resend's wire format (`POST /emails`, Bearer `re_...`), for
 * product mail (welcome, alerts) that does not go through a Workspace mailbox.
 */
export const emailApiFormat: ProviderFormat = {
  name: "email-api",
  renderError(error) {
    const name = error.details.code ?? (error.status === 401 ? "missing_api_key" : error.status === 403 ? "invalid_api_key" : error.status === 422 ? "validation_error" : error.status === 429 ? "rate_limit_exceeded" : "application_error");
    return { body: { statusCode: error.status, message: error.message || name, name }, headers: error.details.headers };
  },
};

// Idempotency-Key -> the request body and the id it got, per simulator (cleared on reset).
const idempotentSends = new WeakMap<SimulatorState, Map<string, { body: string; id: string }>>();

function idempotencyStore(state: SimulatorState): Map<string, { body: string; id: string }> {
  let store = idempotentSends.get(state);
  if (!store) {
    const created = new Map<string, { body: string; id: string }>();
    store = created;
    idempotentSends.set(state, created);
    state.onReset(() => created.clear());
  }
  return store;
}

async function sendEmail(ctx: RouteContext): Promise<void> {
  const header = ctx.req.headers.authorization ?? "";
  const key = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
  if (!key) throw new SimHttpError(401, "Missing API key in the authorization header. Include the following header in the request: Authorization: Bearer YOUR_API_KEY");
  if (key === "re_invalid") throw new SimHttpError(403, "API key is invalid");
  // As Resend: a repeated Idempotency-Key with the same body gets the first response again and
  // sends nothing; with a different body it is a 409.
  const idempotencyKey = ctx.req.headers["idempotency-key"];
  const rawBody = ctx.body.toString("utf8");
  if (typeof idempotencyKey === "string" && idempotencyKey !== "") {
    const seen = idempotencyStore(ctx.state).get(idempotencyKey);
    if (seen && seen.body !== rawBody) {
      throw new SimHttpError(409, "Same idempotency key used with a different request payload. Change your idempotency key or payload.", { code: "invalid_idempotent_request" });
    }
    if (seen) return sendJson(ctx.res, 200, { id: seen.id });
  }
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(rawBody) as Record<string, unknown>;
  } catch {
    throw new SimHttpError(422, "Invalid JSON body.", { code: "validation_error" });
  }
  const list = (v: unknown) => (typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []);
  const to = list(body.to).flatMap((a) => addresses(a));
  if (typeof body.from !== "string" || addresses(body.from).length === 0) throw new SimHttpError(422, "Invalid `from` field.", { code: "validation_error" });
  if (to.length === 0 || to.length > 50) throw new SimHttpError(422, "Invalid `to` field: 1 to 50 addresses.", { code: "validation_error" });
  if (typeof body.subject !== "string" || body.subject === "") throw new SimHttpError(422, "Missing `subject` field.", { code: "validation_error" });
  if (typeof body.text !== "string" && typeof body.html !== "string") throw new SimHttpError(422, "Missing `html` or `text` field.", { code: "validation_error" });
  const html = typeof body.html === "string" ? body.html : null;
  const mail = captureMail(ctx.state, {
    via: "email-api",
    from: body.from,
    to,
    cc: list(body.cc).flatMap((a) => addresses(a)),
    subject: body.subject,
    text: typeof body.text === "string" ? body.text : (html ?? "").replace(/<[^>]+>/g, ""),
    html,
    // Custom headers (e.g. List-Unsubscribe), as the API passes them on to the message.
    headers: Object.fromEntries(
      Object.entries(typeof body.headers === "object" && body.headers !== null ? body.headers : {}).filter((e): e is [string, string] => typeof e[1] === "string"),
    ),
  });
  if (typeof idempotencyKey === "string" && idempotencyKey !== "") idempotencyStore(ctx.state).set(idempotencyKey, { body: rawBody, id: mail.id });
  sendJson(ctx.res, 200, { id: mail.id });
}

async function getEmail(ctx: RouteContext): Promise<void> {
  const header = ctx.req.headers.authorization ?? "";
  if (!header.startsWith("Bearer ") || header === "Bearer re_invalid") throw new SimHttpError(401, "Missing or invalid API key.");
  const mail = capturedMail(ctx.state).find((m) => m.id === ctx.params[0] && m.via === "email-api");
  if (!mail) throw new SimHttpError(404, "Email not found", { code: "not_found" });
  sendJson(ctx.res, 200, {
    object: "email",
    id: mail.id,
    to: mail.to,
    from: mail.from,
    created_at: new Date(mail.at).toISOString(),
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    cc: mail.cc,
    last_event: "delivered",
  });
}

export const emailApiRoutes: Route[] = [
  { method: "POST", path: /^\/emails$/, provider: emailApiFormat, handle: sendEmail },
  { method: "GET", path: /^\/emails\/([\w-]+)$/, provider: emailApiFormat, handle: getEmail },
];
