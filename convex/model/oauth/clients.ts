// Who may ask for a grant and where the answer may go. Every Dex instance is the same public
// client (no secret, `token_endpoint_auth_method: none`, no dynamic registration): the client_id
// is the instance's own id, and what makes a request safe is the redirect URI, which must be a
// loopback address (RFC 8252 7.3), a Tailscale host, or an https URL the account registered.
// Pure: no Convex imports.

/** `dex-` and 4 to 32 lowercase letters or digits, e.g. `dex-a1b2c3d4`. */
export const INSTANCE_ID_PATTERN = /^dex-[a-z0-9]{4,32}$/;

export function isInstanceId(value: string): boolean {
  return INSTANCE_ID_PATTERN.test(value);
}

/** The scopes an instance may hold, in the order the consent page lists them. */
export const SCOPES = ["identity", "email", "signal", "calendar", "ai", "usage"] as const;
export type Scope = (typeof SCOPES)[number];

/** What each scope lets the instance do, in the consent page's words. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  identity: "See your provisioned identity (name, email address, phone number)",
  email: "Read and send email as your provisioned address",
  signal: "Send and receive Signal messages on your provisioned number",
  calendar: "Read and change your provisioned calendar",
  ai: "Make AI requests, metered to your account",
  usage: "See your usage and remaining quota",
};

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

export type ScopeResult = { ok: true; scopes: Scope[] } | { ok: false; unknown: string[] };

/**
 * The `scope` parameter (space-delimited, RFC 6749 3.3). Absent or empty asks for every scope,
 * since an instance needs all of them to work; unknown names are refused, never dropped, so a
 * client learns its request was not what it got. Returned in SCOPES order, without repeats.
 */
export function parseScopes(raw: string | null | undefined): ScopeResult {
  const words = (raw ?? "").split(" ").filter((w) => w !== "");
  if (words.length === 0) return { ok: true, scopes: [...SCOPES] };
  const unknown = words.filter((w) => !isScope(w));
  if (unknown.length > 0) return { ok: false, unknown: [...new Set(unknown)] };
  return { ok: true, scopes: SCOPES.filter((s) => words.includes(s)) };
}

/** Most https redirect URLs one account may register. */
export const MAX_REGISTERED_REDIRECT_URIS = 20;
export const MAX_REDIRECT_URI_LENGTH = 2000;

export type RedirectKind = "loopback" | "tailscale" | "registered";

function parse(uri: string): URL | null {
  if (uri.length === 0 || uri.length > MAX_REDIRECT_URI_LENGTH) return null;
  try {
    return new URL(uri);
  } catch {
    return null;
  }
}

/**
 * Whether an https URL can be registered: absolute, no fragment (RFC 6749 3.1.2), no user info
 * (it would let `https://good@evil` read as good), and written as the URL parser writes it, so
 * the exact match at authorization time compares what a browser will follow.
 */
export function registrableRedirectProblem(uri: string): string | null {
  const url = parse(uri);
  if (url === null) return "Enter an absolute URL, e.g. https://dex.example.com/oauth/callback.";
  if (url.protocol !== "https:") return "Only https URLs can be registered (loopback and Tailscale addresses are allowed without registering).";
  if (url.hash !== "" || uri.includes("#")) return "A redirect URL cannot have a #fragment.";
  if (url.username !== "" || url.password !== "") return "A redirect URL cannot carry a user name or password.";
  if (url.href !== uri) return `Write the URL as ${url.href} (that is the exact form it is matched in).`;
  return null;
}

/**
 * Which rule admits `uri` for this account, or null. Loopback: http on 127.0.0.1 or [::1] on any
 * port (RFC 8252 7.3: native apps pick a free port; `localhost` is not accepted, 8.3). Tailscale:
 * https on a *.ts.net host (MagicDNS names carry Tailscale's certificates). Registered: exactly
 * one of the account's https URLs, character for character.
 */
export function redirectKind(uri: string, registered: readonly string[]): RedirectKind | null {
  const url = parse(uri);
  if (url === null) return null;
  if (url.hash !== "" || uri.includes("#")) return null;
  if (url.username !== "" || url.password !== "") return null;
  if (url.protocol === "http:" && (url.hostname === "127.0.0.1" || url.hostname === "[::1]")) return "loopback";
  if (url.protocol === "https:") {
    const host = url.hostname;
    if (host.endsWith(".ts.net") && host.length > ".ts.net".length && !host.startsWith(".")) return "tailscale";
    if (registered.includes(uri)) return "registered";
  }
  return null;
}
