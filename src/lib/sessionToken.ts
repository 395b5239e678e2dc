// The browser's proxy token: the signed-in person's Convex/Clerk JWT exchanged at
// POST /api/session for a 15-minute opaque token the AI endpoints accept like an API key. The
// token is kept in memory only (never localStorage), fetched once for concurrent callers,
// renewed shortly before it expires, and renewed once more when the proxy answers 401 with
// `session_expired` / `session_revoked` (the request is then retried once).

/** Renew this long before expiry, so a request never leaves with a dying token. */
export const SESSION_REFRESH_MARGIN_MS = 30_000;

/** Codes of a 401 that a fresh session token fixes. */
const REFRESHABLE = new Set(["session_expired", "session_revoked", "invalid_api_key"]);

export class SessionTokenError extends Error {
  constructor(message: string, readonly status: number, readonly code: string | null) {
    super(message);
    this.name = "SessionTokenError";
  }
}

export interface SessionTokenOptions {
  /** The deployment's site URL (httpActions), e.g. CONVEX_SITE_URL. */
  siteUrl: string;
  /** The signed-in person's JWT, or null when signed out. */
  getJwt: () => Promise<string | null>;
  fetch?: typeof fetch;
  now?: () => number;
}

interface Held {
  token: string;
  expiresAt: number;
}

async function errorOf(res: Response): Promise<{ message: string; code: string | null }> {
  const body = (await res.json().catch(() => null)) as { error?: { message?: unknown; code?: unknown } } | null;
  return {
    message: typeof body?.error?.message === "string" ? body.error.message : `HTTP ${res.status}`,
    code: typeof body?.error?.code === "string" ? body.error.code : null,
  };
}

export class SessionTokenClient {
  private held: Held | null = null;
  private pending: Promise<Held> | null = null;
  private readonly doFetch: typeof fetch;
  private readonly now: () => number;
  /** How many tokens this client fetched (the page shows nothing of it; tests read it). */
  fetched = 0;

  constructor(private readonly options: SessionTokenOptions) {
    this.doFetch = options.fetch ?? ((...args) => fetch(...args));
    this.now = options.now ?? Date.now;
  }

  /** A token valid for at least the refresh margin, fetching one when needed (one fetch for concurrent callers). */
  async token(): Promise<string> {
    if (this.held && this.held.expiresAt - this.now() > SESSION_REFRESH_MARGIN_MS) return this.held.token;
    this.pending ??= this.exchange().finally(() => {
      this.pending = null;
    });
    this.held = await this.pending;
    return this.held.token;
  }

  /** Forgets the token (sign-out, or the proxy refused it). */
  invalidate(): void {
    this.held = null;
  }

  private async exchange(): Promise<Held> {
    const jwt = await this.options.getJwt();
    if (!jwt) throw new SessionTokenError("You are signed out. Sign in again to use the AI proxy.", 401, "not_signed_in");
    const res = await this.doFetch(`${this.options.siteUrl}/api/session`, {
      method: "POST",
      headers: { authorization: `Bearer ${jwt}` },
    });
    if (!res.ok) {
      const { message, code } = await errorOf(res);
      throw new SessionTokenError(message, res.status, code);
    }
    const body = (await res.json()) as { token: string; expires_at: number; expires_in: number };
    this.fetched += 1;
    // The server's clock may differ from ours: trust the lifetime, not the absolute time.
    return { token: body.token, expiresAt: this.now() + body.expires_in * 1000 };
  }

  /**
   * fetch() against the site with the session token as Bearer. A 401 that a new token fixes
   * (expired, revoked) is retried once with a fresh token; other answers are returned as they are.
   */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const send = async () => {
      const headers = new Headers(init.headers);
      headers.set("authorization", `Bearer ${await this.token()}`);
      return await this.doFetch(`${this.options.siteUrl}${path}`, { ...init, headers });
    };
    const first = await send();
    if (first.status !== 401) return first;
    const { code } = await errorOf(first.clone());
    if (code === null || !REFRESHABLE.has(code)) return first;
    this.invalidate();
    return await send();
  }
}
