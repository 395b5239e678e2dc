import { Link, useLocation } from "react-router";
import { PageHeader } from "../components/PageHeader";

export function NotFoundPage() {
  const { pathname } = useLocation();
  return (
    <div className="page content-narrow">
      <PageHeader
        title="Page not found"
        description={
          <>
            There is nothing at <code>{pathname}</code>. It may have moved, or the link may be mistyped.
          </>
        }
      />
      <p>
        <Link to="/" className="button button-primary">
          Go to the dashboard
        </Link>
      </p>
    </div>
  );
}
