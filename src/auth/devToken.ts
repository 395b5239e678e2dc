// Dev sign-in tokens: requested from the deployment's dev issuer and kept in
// localStorage so a reload stays signed in. Only used when Clerk is not configured.
import { CONVEX_SITE_URL } from "../config";

export type Role = "user" | "support" | "admin";

export interface DevCredentials {
  email: string;
  role: Role;
  token: string;
  /** Epoch ms when the token stops being accepted. */
  expiresAt: number;
}

const STORAGE_KEY = "poindexter.devAuth";

/** Refresh this long before expiry so a request never goes out with a dying token. */
export const REFRESH_MARGIN_MS = 2 * 60 * 1000;

export async function requestDevToken(email: string, role: Role): Promise<DevCredentials> {
  let response: Response;
  try {
    response = await fetch(`${CONVEX_SITE_URL}/dev-auth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, role }),
    });
  } catch {
    throw new Error(
      `Could not reach the backend at ${CONVEX_SITE_URL}. Is it running (npm run dev)?`,
    );
  }
  const body = (await response.json().catch(() => null)) as
    | { token?: unknown; expiresIn?: unknown; error?: unknown }
    | null;
  if (response.status === 404) {
    throw new Error("This deployment does not offer dev sign-in (DEV_AUTH is off).");
  }
  if (!response.ok || typeof body?.token !== "string" || typeof body.expiresIn !== "number") {
    const reason = typeof body?.error === "string" ? body.error : `HTTP ${response.status}`;
    throw new Error(`Dev sign-in failed: ${reason}`);
  }
  return {
    email: email.trim().toLowerCase(),
    role,
    token: body.token,
    expiresAt: Date.now() + body.expiresIn * 1000,
  };
}

export function isFresh(credentials: DevCredentials, now = Date.now()): boolean {
  return credentials.expiresAt - now > REFRESH_MARGIN_MS;
}

export function loadDevCredentials(): DevCredentials | null {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Partial<DevCredentials>;
    if (
      typeof s.email === "string" &&
      (s.role === "user" || s.role === "support" || s.role === "admin") &&
      typeof s.token === "string" &&
      typeof s.expiresAt === "number"
    ) {
      return { email: s.email, role: s.role, token: s.token, expiresAt: s.expiresAt };
    }
  } catch {
    // Unreadable storage (private mode, corrupted value): treat as signed out.
  }
  return null;
}

export function saveDevCredentials(credentials: DevCredentials | null): void {
  try {
    if (credentials) window.localStorage.setItem(STORAGE_KEY, JSON.stringify(credentials));
    else window.localStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be unavailable; sign-in then lasts for this page only.
  }
}

export const DEV_AUTH_STORAGE_KEY = STORAGE_KEY;

/**
 * The token to hand the Convex client: the stored one while it has more than
 * REFRESH_MARGIN_MS left, otherwise (or when the client insists, e.g. after the
 * server rejected it) a newly issued one for the same person.
 */
export async function tokenFor(
  current: DevCredentials,
  forceRefresh: boolean,
  request: (email: string, role: Role) => Promise<DevCredentials> = requestDevToken,
  now = Date.now(),
): Promise<DevCredentials> {
  if (!forceRefresh && isFresh(current, now)) return current;
  return await request(current.email, current.role);
}
