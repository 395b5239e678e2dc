import { useEffect } from "react";
import type { Viewer } from "./ViewerContext";
import { refusalIsTemporary } from "../lib/signup";
import { Brand } from "../components/Brand";

type Refusal = NonNullable<Viewer["signupRefusal"]>;

/**
 * A signup the checks refused (a throwaway address, too many signups): the server's message,
 * what to do about it, and the way out. The account stays pending; each sign-in tries again.
 */
export function SignupRefusedScreen({
  email,
  refusal,
  onRetry,
  onSignOut,
}: {
  email: string;
  refusal: Refusal;
  onRetry: () => void;
  onSignOut: () => void;
}) {
  const temporary = refusalIsTemporary(refusal.reason);

  useEffect(() => {
    document.title = "Signup not possible · Poindexter Cloud";
  }, []);

  return (
    <main className="auth-screen">
      <section className="card auth-card" aria-labelledby="refused-title" data-testid="signup-refused">
        <Brand large />
        <h1 id="refused-title">We can&apos;t open an account for you yet</h1>
        <div className="notice notice-critical" role="alert">
          <p data-testid="signup-refusal-message">{refusal.message}</p>
        </div>
        <p className="muted">
          You are signed in as <strong>{email}</strong>.{" "}
          {temporary
            ? "This limit lifts by itself; try again later."
            : "Sign out, then sign in with your own address."}
        </p>
        <div className="button-row">
          {temporary && (
            <button type="button" className="button button-primary" onClick={onRetry}>
              Try again
            </button>
          )}
          <button type="button" className={temporary ? "button" : "button button-primary"} onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </section>
    </main>
  );
}
