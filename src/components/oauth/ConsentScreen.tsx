import { useEffect, type ReactNode } from "react";
import { Brand } from "../Brand";

/** The focused screen of /connect and /device: no navigation, one decision. */
export function ConsentScreen({ title, testId, children }: { title: string; testId: string; children: ReactNode }) {
  useEffect(() => {
    document.title = `${title} · Poindexter Cloud`;
  }, [title]);
  return (
    <main className="auth-screen">
      <section className="card auth-card" aria-labelledby="consent-title" data-testid={testId}>
        <Brand large />
        <h1 id="consent-title">{title}</h1>
        {children}
      </section>
    </main>
  );
}
