import { ClerkProvider, useAuth, useClerk } from "@clerk/react";
import type { ConvexReactClient } from "convex/react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { useMemo, type ReactNode } from "react";
import { SessionContext, type Session } from "./SessionContext";

function ClerkSession({ children }: { children: ReactNode }) {
  const clerk = useClerk();
  const session = useMemo<Session>(() => ({ signOut: () => clerk.signOut() }), [clerk]);
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
}

/** Production sign-in: Clerk issues the session, Convex verifies its "convex" JWT template. */
export function ClerkAuthProvider({
  publishableKey,
  client,
  children,
}: {
  publishableKey: string;
  client: ConvexReactClient;
  children: ReactNode;
}) {
  return (
    <ClerkProvider publishableKey={publishableKey} afterSignOutUrl="/">
      <ClerkSession>
        <ConvexProviderWithClerk client={client} useAuth={useAuth}>
          {children}
        </ConvexProviderWithClerk>
      </ClerkSession>
    </ClerkProvider>
  );
}
