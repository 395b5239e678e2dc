import { lazy, StrictMode, Suspense } from "react";
import { createRoot } from "react-dom/client";
import { ConvexReactClient } from "convex/react";
import { CLERK_PUBLISHABLE_KEY, CONVEX_URL } from "./config";
import { DevAuthProvider } from "./auth/DevAuthProvider";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { ErrorNotice } from "./components/ErrorNotice";
import { App } from "./App";
import { Loading } from "./components/Loading";
import "./styles.css";

const client = new ConvexReactClient(CONVEX_URL);

// Clerk's SDK is large and unused offline: load it only when a key is configured.
const ClerkAuthProvider = lazy(() =>
  import("./auth/ClerkAuthProvider").then((m) => ({ default: m.ClerkAuthProvider })),
);

const root = document.getElementById("root");
if (!root) throw new Error("index.html needs a #root element.");

createRoot(root).render(
  <StrictMode>
    <ErrorBoundary
      fallback={(error, reset) => (
        <main className="auth-screen">
          <div className="card auth-card">
            <h1>Poindexter Cloud hit a problem</h1>
            <ErrorNotice error={error} />
            <button type="button" className="button button-primary" onClick={reset}>
              Try again
            </button>
          </div>
        </main>
      )}
    >
      {CLERK_PUBLISHABLE_KEY ? (
        <Suspense
          fallback={
            <main className="auth-screen">
              <Loading />
            </main>
          }
        >
          <ClerkAuthProvider publishableKey={CLERK_PUBLISHABLE_KEY} client={client}>
            <App />
          </ClerkAuthProvider>
        </Suspense>
      ) : (
        <DevAuthProvider client={client}>
          <App />
        </DevAuthProvider>
      )}
    </ErrorBoundary>
  </StrictMode>,
);
