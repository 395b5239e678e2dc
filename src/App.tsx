import { Authenticated, AuthLoading, Unauthenticated } from "convex/react";
import { lazy, Suspense } from "react";
import { RouterProvider } from "react-router";
import { CLERK_PUBLISHABLE_KEY } from "./config";
import { DevSignIn } from "./auth/DevSignIn";
import { FullPageLoading } from "./components/Loading";
import { ViewerGate } from "./viewer/ViewerGate";
import { pathAfterOnboarding } from "./components/oauth/connectRequest";
import { router } from "./router";

const ClerkSignIn = lazy(() => import("./auth/ClerkSignIn").then((m) => ({ default: m.ClerkSignIn })));

/** Signed out: the sign-in screen. Signed in: the account, then the routed app. */
export function App() {
  return (
    <>
      <AuthLoading>
        <FullPageLoading label="Signing in…" />
      </AuthLoading>
      <Unauthenticated>
        {CLERK_PUBLISHABLE_KEY ? (
          <Suspense fallback={<FullPageLoading />}>
            <ClerkSignIn />
          </Suspense>
        ) : (
          <DevSignIn />
        )}
      </Unauthenticated>
      <Authenticated>
        {/* Leaving the onboarding screen lands on the dashboard, or back on the /connect request
            that brought a new account here (signup + connect). */}
        <ViewerGate onOnboarded={() => void router.navigate(pathAfterOnboarding(window.location))}>
          <RouterProvider router={router} />
        </ViewerGate>
      </Authenticated>
    </>
  );
}
