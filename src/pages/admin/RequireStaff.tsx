import { Outlet } from "react-router";
import { isStaff, useViewer } from "../../viewer/ViewerContext";
import { PageHeader } from "../../components/PageHeader";

/** The admin console is for support staff and admins; the backend enforces it too. */
export function RequireStaff() {
  const viewer = useViewer();
  if (!isStaff(viewer)) {
    return (
      <div className="page content-narrow">
        <PageHeader
          title="Support access only"
          description={
            <>
              The admin console is for Poindexter support staff and admins. Your role is{" "}
              <strong>{viewer.role}</strong>.
            </>
          }
        />
      </div>
    );
  }
  return <Outlet />;
}
