import { ConnectionNotice } from "./ConnectionNotice";

export function Loading({ label = "Loading…", inline = false }: { label?: string; inline?: boolean }) {
  return (
    <div className={inline ? "loading loading-inline" : "loading"} role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      <span>{label}</span>
    </div>
  );
}

export function FullPageLoading({ label }: { label?: string }) {
  return (
    <main className="auth-screen">
      <div className="full-page-loading">
        <Loading label={label} />
        <ConnectionNotice />
      </div>
    </main>
  );
}
