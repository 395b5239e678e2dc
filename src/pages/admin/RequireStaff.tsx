import { Outlet } from "react-router";
import { isStaff, useViewer } from "../../viewer/ViewerContext";

/** The admin console is for support agents and admins; the backend enforces it too. */
export function RequireStaff() {
  const viewer = useViewer();
  if (!isStaff(viewer)) {
    return (
      <div className="page content-narrow">
        <h1>Support access only</h1>
        <p className="muted">
          The admin console is for Poindexter support agents and admins. Your role is{" "}
          <strong>{viewer.role}</strong>.
        </p>
      </div>
    );
  }
  return <Outlet />;
}
