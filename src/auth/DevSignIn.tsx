import { useState, type FormEvent } from "react";
import { useDevAuth } from "./DevAuthProvider";
import type { Role } from "./devToken";
import { describeError } from "../lib/errors";
import { TextField } from "../components/TextField";
import { Brand } from "../components/Brand";

const ROLES: ReadonlyArray<{ value: Role; label: string; hint: string }> = [
  { value: "user", label: "Customer", hint: "The customer dashboard" },
  { value: "support", label: "Support", hint: "Dashboard plus the admin console" },
  { value: "admin", label: "Admin", hint: "Everything, including role changes" },
];

/** Offline sign-in: any email, any role. Shown only when Clerk is not configured. */
export function DevSignIn() {
  const { credentials, signIn } = useDevAuth();
  const [email, setEmail] = useState(credentials?.email ?? "");
  const [role, setRole] = useState<Role>(credentials?.role ?? "user");
  const [pending, setPending] = useState(false);
  const [error, setError] = useState<string | null>(null);

  async function onSubmit(event: FormEvent) {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      await signIn(email, role);
    } catch (err) {
      setError(describeError(err).message);
      setPending(false);
    }
  }

  return (
    <main className="auth-screen">
      <form className="card auth-card" onSubmit={onSubmit} aria-labelledby="signin-title">
        <Brand large />
        <h1 id="signin-title">Sign in</h1>
        <p className="muted">
          Development sign-in: tokens come from this deployment&apos;s own issuer. A new email
          opens a new trial account.
        </p>
        <TextField
          id="signin-email"
          label="Email"
          name="email"
          type="email"
          autoComplete="email"
          required
          autoFocus
          value={email}
          onChange={setEmail}
          placeholder="ada@example.com"
        />
        <div className="field">
          <label htmlFor="signin-role">Role</label>
          <select id="signin-role" name="role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.map((r) => (
              <option key={r.value} value={r.value}>
                {r.label} ({r.value})
              </option>
            ))}
          </select>
          <p className="field-hint">{ROLES.find((r) => r.value === role)?.hint}</p>
        </div>
        {error && (
          <p className="notice notice-critical" role="alert">
            {error}
          </p>
        )}
        <button type="submit" className="button button-primary button-block" disabled={pending}>
          {pending ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}
