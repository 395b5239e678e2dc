import { createContext, useContext } from "react";

/** What the app shell needs from whichever sign-in method is active. */
export interface AuthMethod {
  signOut: () => void | Promise<void>;
  /** Shown next to the sign-out button, e.g. "Dev sign-in". */
  methodLabel?: string;
}

export const AuthMethodContext = createContext<AuthMethod | null>(null);

export function useAuthMethod(): AuthMethod {
  const method = useContext(AuthMethodContext);
  if (method === null) throw new Error("useAuthMethod must be used inside a sign-in provider.");
  return method;
}
