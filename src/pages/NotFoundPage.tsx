import { Link, useLocation } from "react-router";

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div className="page content-narrow">
      <h1>Page not found</h1>
      <p className="muted">
        There is nothing at <code>{pathname}</code>. It may have moved, or the link may be mistyped.
      </p>
      <p>
        <Link to="/" className="button button-primary">
          Go to the dashboard
        </Link>
      </p>
    </div>
  );
}
