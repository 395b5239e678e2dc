import { ClerkProvider, useAuth, useClerk } from "@clerk/react";
import type { ConvexReactClient } from "convex/react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { useMemo, type ReactNode } from "react";
import { AuthMethodContext, type AuthMethod } from "./AuthMethodContext";

function ClerkSignOut({ children }: { children: ReactNode }) {
  const clerk = useClerk();
  const method = useMemo<AuthMethod>(() => ({ signOut: () => clerk.signOut() }), [clerk]);
  return <AuthMethodContext.Provider value={method}>{children}</AuthMethodContext.Provider>;
}

/** Production sign-in: Clerk signs people in, Convex verifies its "convex" JWT template. */
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
      <ClerkSignOut>
        <ConvexProviderWithClerk client={client} useAuth={useAuth}>
          {children}
        </ConvexProviderWithClerk>
      </ClerkSignOut>
    </ClerkProvider>
  );
}
