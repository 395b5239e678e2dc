import { useEffect, type ReactNode } from "react";

export function PageHeader({
  title,
  description,
  actions,
  tabTitle = title,
}: {
  title: string;
  /** The browser tab's title when the heading is personal ("Welcome, Ada"). */
  tabTitle?: string;
  description?: ReactNode;
  actions?: ReactNode;
}) {
  // The tab title follows the page, so history and tabs are told apart.
  useEffect(() => {
    document.title = `${tabTitle} · Poindexter Cloud`;
  }, [tabTitle]);
  return (
    <header className="page-header">
      <div>
        <h1>{title}</h1>
        {description && <p className="muted">{description}</p>}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}
