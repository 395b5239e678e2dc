import { ConvexProviderWithAuth, type ConvexReactClient } from "convex/react";
import {
  createContext,
  useCallback,
  useContext,
  useEffect,
  useMemo,
  useRef,
  useState,
  type ReactNode,
} from "react";
import { SessionContext, type Session } from "./SessionContext";
import {
  DEV_SESSION_STORAGE_KEY,
  loadDevSession,
  requestDevToken,
  saveDevSession,
  tokenFor,
  type DevSession,
  type Role,
} from "./devToken";

interface DevAuth {
  session: DevSession | null;
  /** The newest session including silent token refreshes, which do not re-render. */
  sessionRef: { current: DevSession | null };
  signIn: (email: string, role: Role) => Promise<void>;
  signOut: () => void;
}

const DevAuthContext = createContext<DevAuth | null>(null);

export function useDevAuth(): DevAuth {
  const ctx = useContext(DevAuthContext);
  if (ctx === null) throw new Error("useDevAuth must be used inside DevAuthProvider.");
  return ctx;
}

/**
 * The `useAuth` hook ConvexProviderWithAuth calls. fetchAccessToken only changes
 * identity when the signed-in person changes: a new identity makes the client
 * re-authenticate, which must not happen on every token refresh.
 */
function useDevConvexAuth() {
  const { session, sessionRef: latest } = useDevAuth();
  const email = session?.email;
  const role = session?.role;
  const isAuthenticated = session !== null;

  const fetchAccessToken = useCallback(
    async ({ forceRefreshToken }: { forceRefreshToken: boolean }) => {
      const current = latest.current;
      if (!current || current.email !== email || current.role !== role) return null;
      try {
        const fresh = await tokenFor(current, forceRefreshToken);
        if (fresh === current) return current.token;
        // Signed out (or in as someone else) while the request was in flight: drop it.
        if (latest.current?.email !== email) return null;
        latest.current = fresh;
        saveDevSession(fresh);
        return fresh.token;
      } catch {
        // Returning null tells the client we are signed out; the sign-in screen
        // then shows and explains any connection problem on the next attempt.
        return null;
      }
    },
    [email, role, latest],
  );

  return useMemo(
    () => ({ isLoading: false, isAuthenticated, fetchAccessToken }),
    [isAuthenticated, fetchAccessToken],
  );
}

export function DevAuthProvider({
  client,
  children,
}: {
  client: ConvexReactClient;
  children: ReactNode;
}) {
  const [session, setSession] = useState<DevSession | null>(() => loadDevSession());
  const sessionRef = useRef<DevSession | null>(session);

  // Signing in or out in another tab applies here too.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === DEV_SESSION_STORAGE_KEY) {
        const next = loadDevSession();
        sessionRef.current = next;
        setSession((prev) => (prev?.email === next?.email && prev?.role === next?.role ? prev : next));
      }
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  const signIn = useCallback(async (email: string, role: Role) => {
    const fresh = await requestDevToken(email, role);
    saveDevSession(fresh);
    sessionRef.current = fresh;
    setSession(fresh);
  }, []);

  const signOut = useCallback(() => {
    saveDevSession(null);
    sessionRef.current = null;
    setSession(null);
  }, []);

  const devAuth = useMemo(
    () => ({ session, sessionRef, signIn, signOut }),
    [session, signIn, signOut],
  );
  const appSession = useMemo<Session>(() => ({ signOut, methodLabel: "Dev sign-in" }), [signOut]);

  return (
    <DevAuthContext.Provider value={devAuth}>
      <SessionContext.Provider value={appSession}>
        <ConvexProviderWithAuth client={client} useAuth={useDevConvexAuth}>
          {children}
        </ConvexProviderWithAuth>
      </SessionContext.Provider>
    </DevAuthContext.Provider>
  );
}
