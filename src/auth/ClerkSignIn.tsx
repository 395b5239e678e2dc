import { SignIn } from "@clerk/react";
import { Brand } from "../components/Brand";

export function ClerkSignIn() {
  return (
    <main className="auth-screen">
      <div className="auth-clerk">
        <Brand large />
        <SignIn routing="hash" />
      </div>
    </main>
  );
}
