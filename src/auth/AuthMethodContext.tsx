import { createContext, useContext } from "react";

/** What the app shell needs from whichever sign-in method is active. */
export interface AuthMethod {
  signOut: () => void | Promise<void>;
  /** Shown next to the sign-out button, e.g. "Dev sign-in". */
  methodLabel?: string;
  /** The signed-in person's Convex JWT (for POST /api/session), or null when signed out. */
  getToken?: () => Promise<string | null>;
}

export const AuthMethodContext = createContext<AuthMethod | null>(null);

export function useAuthMethod(): AuthMethod {
  const method = useContext(AuthMethodContext);
  if (method === null) throw new Error("useAuthMethod must be used inside a sign-in provider.");
  return method;
}
