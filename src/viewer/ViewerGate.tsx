import { useMutation, useQuery } from "convex/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { ViewerContext } from "./ViewerContext";
import { FullPageLoading } from "../components/Loading";
import { ErrorNotice } from "../components/ErrorNotice";
import { useAuthMethod } from "../auth/AuthMethodContext";

/**
 * Runs `users.viewer.ensure` once after sign-in (it creates the account on the first
 * visit), then provides the live `users.viewer.get` row to everything below.
 */
export function ViewerGate({ children }: { children: ReactNode }) {
  const ensureViewer = useMutation(api.users.viewer.ensure);
  const { signOut } = useAuthMethod();
  const started = useRef(false);
  const [ensured, setEnsured] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    // A ref, not effect cleanup: StrictMode re-runs effects, and this must run once.
    if (started.current) return;
    started.current = true;
    ensureViewer()
      .then(() => setEnsured(true))
      .catch((err: unknown) => setError(err));
  }, [ensureViewer, attempt]);

  const viewer = useQuery(api.users.viewer.get, ensured ? {} : "skip");

  if (error !== null) {
    return (
      <main className="auth-screen">
        <div className="card auth-card">
          <h1>We could not open your account</h1>
          <ErrorNotice error={error} />
          <div className="button-row">
            <button
              type="button"
              className="button button-primary"
              onClick={() => {
                started.current = false;
                setError(null);
                setAttempt((n) => n + 1);
              }}
            >
              Try again
            </button>
            <button type="button" className="button" onClick={() => void signOut()}>
              Sign out
            </button>
          </div>
        </div>
      </main>
    );
  }
  if (!ensured || viewer === undefined) return <FullPageLoading label="Opening your account…" />;
  if (viewer === null) return <FullPageLoading label="Setting up your account…" />;
  return <ViewerContext.Provider value={viewer}>{children}</ViewerContext.Provider>;
}
