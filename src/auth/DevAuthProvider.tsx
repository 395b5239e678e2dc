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
import { AuthMethodContext, type AuthMethod } from "./AuthMethodContext";
import {
  DEV_AUTH_STORAGE_KEY,
  loadDevCredentials,
  requestDevToken,
  saveDevCredentials,
  tokenFor,
  type DevCredentials,
  type Role,
} from "./devToken";

interface DevAuth {
  credentials: DevCredentials | null;
  /** The newest credentials including silent token refreshes, which do not re-render. */
  credentialsRef: { current: DevCredentials | null };
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
  const { credentials, credentialsRef: latest } = useDevAuth();
  const email = credentials?.email;
  const role = credentials?.role;
  const isAuthenticated = credentials !== null;

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
        saveDevCredentials(fresh);
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
  const [credentials, setCredentials] = useState<DevCredentials | null>(() => loadDevCredentials());
  const credentialsRef = useRef<DevCredentials | null>(credentials);

  // Signing in or out in another tab applies here too.
  useEffect(() => {
    const onStorage = (event: StorageEvent) => {
      if (event.key === DEV_AUTH_STORAGE_KEY) {
        const next = loadDevCredentials();
        credentialsRef.current = next;
        setCredentials((prev) => (prev?.email === next?.email && prev?.role === next?.role ? prev : next));
      }
    };
    window.addEventListener("storage", onStorage);
    return () => window.removeEventListener("storage", onStorage);
  }, []);

  const signIn = useCallback(async (email: string, role: Role) => {
    const fresh = await requestDevToken(email, role);
    saveDevCredentials(fresh);
    credentialsRef.current = fresh;
    setCredentials(fresh);
  }, []);

  const signOut = useCallback(() => {
    saveDevCredentials(null);
    credentialsRef.current = null;
    setCredentials(null);
  }, []);

  const devAuth = useMemo(
    () => ({ credentials, credentialsRef, signIn, signOut }),
    [credentials, signIn, signOut],
  );
  const authMethod = useMemo<AuthMethod>(() => ({
    signOut,
    methodLabel: "Dev sign-in",
    // The same fresh token the Convex client gets (renewed a little before it expires).
    getToken: async () => {
      const current = credentialsRef.current;
      if (!current) return null;
      const fresh = await tokenFor(current, false);
      if (fresh !== current && credentialsRef.current?.email === fresh.email) {
        credentialsRef.current = fresh;
        saveDevCredentials(fresh);
      }
      return fresh.token;
    },
  }), [signOut]);

  return (
    <DevAuthContext.Provider value={devAuth}>
      <AuthMethodContext.Provider value={authMethod}>
        <ConvexProviderWithAuth client={client} useAuth={useDevConvexAuth}>
          {children}
        </ConvexProviderWithAuth>
      </AuthMethodContext.Provider>
    </DevAuthContext.Provider>
  );
}
