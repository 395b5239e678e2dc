import { useMutation, useQuery } from "convex/react";
import { useEffect, useRef, useState, type ReactNode } from "react";
import { api } from "../../convex/_generated/api";
import { ViewerContext } from "./ViewerContext";
import { OnboardingScreen } from "./OnboardingScreen";
import { SignupRefusedScreen } from "./SignupRefusedScreen";
import { FullPageLoading } from "../components/Loading";
import { ErrorNotice } from "../components/ErrorNotice";
import { useAuthMethod } from "../auth/AuthMethodContext";
import type { EnsureResult, FirstKey } from "../lib/signup";

/**
 * Runs `signup.account.ensure` once after every sign-in (the first one signs up: checks, trial,
 * first key), then provides the live `users.viewer.get` row to everything below. A new account
 * sees its first key once, on the onboarding screen; a refused signup sees why.
 */
export function ViewerGate({ children, onOnboarded }: { children: ReactNode; onOnboarded?: () => void }) {
  const ensureAccount = useMutation(api.signup.account.ensure);
  const { signOut } = useAuthMethod();
  const started = useRef(false);
  const [ensured, setEnsured] = useState<EnsureResult | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  // The first key's secret exists only in ensure's answer: held here until the person leaves
  // the onboarding screen, then dropped for good (never stored, never fetched again).
  const [firstKey, setFirstKey] = useState<FirstKey | null>(null);

  useEffect(() => {
    // A ref, not effect cleanup: StrictMode re-runs effects, and this must run once per attempt.
    if (started.current) return;
    started.current = true;
    ensureAccount({})
      .then((result) => {
        setFirstKey(result.status === "created" ? result.firstKey : null);
        setEnsured(result);
      })
      .catch((err: unknown) => setError(err));
  }, [ensureAccount, attempt]);

  const retry = () => {
    started.current = false;
    setError(null);
    setEnsured(null);
    setAttempt((n) => n + 1);
  };

  const viewer = useQuery(api.users.viewer.get, ensured !== null ? {} : "skip");

  if (error !== null) {
    return (
      <main className="auth-screen">
        <div className="card auth-card">
          <h1>We could not open your account</h1>
          <ErrorNotice error={error} />
          <div className="button-row">
            <button type="button" className="button button-primary" onClick={retry}>
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
  if (ensured === null || viewer === undefined) return <FullPageLoading label="Opening your account…" />;
  if (viewer === null) return <FullPageLoading label="Setting up your account…" />;

  // The live row decides: a reload or another tab shows the same refusal, and an account
  // that passes on a later attempt leaves this screen by itself.
  if (viewer.state === "pending" && viewer.signupRefusal !== undefined) {
    return (
      <SignupRefusedScreen
        email={viewer.email}
        refusal={viewer.signupRefusal}
        onRetry={retry}
        onSignOut={() => void signOut()}
      />
    );
  }
  if (firstKey !== null) {
    return (
      <ViewerContext.Provider value={viewer}>
        <OnboardingScreen
          firstKey={firstKey}
          onContinue={() => {
            setFirstKey(null);
            onOnboarded?.();
          }}
        />
      </ViewerContext.Provider>
    );
  }
  return <ViewerContext.Provider value={viewer}>{children}</ViewerContext.Provider>;
}
