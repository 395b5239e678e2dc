import type { ReactNode } from "react";

export function Card({
  title,
  actions,
  children,
  className,
  testId,
}: {
  title?: string;
  actions?: ReactNode;
  children: ReactNode;
  className?: string;
  testId?: string;
}) {
  return (
    <section className={`card${className ? ` ${className}` : ""}`} data-testid={testId} aria-label={title}>
      {(title || actions) && (
        <header className="card-header">
          {title && <h2>{title}</h2>}
          {actions && <div className="card-actions">{actions}</div>}
        </header>
      )}
      {children}
    </section>
  );
}

/** A titled part of a card (an account's subscriptions, its invoices, its webhook events…). */
export function Subsection({ title, children }: { title: string; children: ReactNode }) {
  return (
    <div className="subsection">
      <h3>{title}</h3>
      {children}
    </div>
  );
}
