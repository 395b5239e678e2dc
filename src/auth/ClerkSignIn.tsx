import { SignIn } from "@clerk/react";

export function ClerkSignIn() {
  return (
    <main className="auth-screen">
      <div className="auth-clerk">
        <div className="brand brand-large">
          <span className="brand-mark" aria-hidden="true">P</span>
          <span>Poindexter Cloud</span>
        </div>
        <SignIn routing="hash" />
      </div>
    </main>
  );
}
