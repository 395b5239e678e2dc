import { ClerkProvider, useAuth, useClerk } from "@clerk/react";
import type { ConvexReactClient } from "convex/react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { useMemo, type ReactNode } from "react";
import { AuthMethodContext, type AuthMethod } from "./AuthMethodContext";

function ClerkSignOut({ children }: { children: ReactNode }) {
  const clerk = useClerk();
  const method = useMemo<AuthMethod>(() => ({
    signOut: () => clerk.signOut(),
    // The JWT template Convex verifies (auth.config.ts), as ConvexProviderWithClerk asks for it.
    getToken: async () => (await clerk.session?.getToken({ template: "convex" })) ?? null,
  }), [clerk]);
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
