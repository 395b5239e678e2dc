import { createContext, useContext } from "react";

/** What the app shell needs from whichever sign-in method is active. */
export interface Session {
  signOut: () => void | Promise<void>;
  /** Shown next to the sign-out button, e.g. "Dev sign-in". */
  methodLabel?: string;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession must be used inside a sign-in provider.");
  return session;
}
