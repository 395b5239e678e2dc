import { NavLink, Outlet, useLocation } from "react-router";
import { isStaff, useViewer } from "../viewer/ViewerContext";
import { useAuthMethod } from "../auth/AuthMethodContext";
import { PlanBadge } from "./PlanBadge";
import { StateBadge } from "./StateBadge";
import { ErrorBoundary } from "./ErrorBoundary";
import { ConnectionNotice } from "./ConnectionNotice";
import { Brand } from "./Brand";

const NAV = [
  { to: "/", label: "Dashboard", end: true },
  { to: "/keys", label: "API keys", end: false },
  { to: "/usage", label: "Usage", end: false },
  { to: "/billing", label: "Billing", end: false },
  { to: "/instances", label: "Instances", end: false },
  { to: "/settings", label: "Settings", end: false },
];

function isAccountsConsole(pathname: string): boolean {
  return pathname === "/admin" || pathname === "/admin/" || pathname.startsWith("/admin/accounts");
}

export function Layout() {
  const viewer = useViewer();
  const { signOut, methodLabel } = useAuthMethod();
  const location = useLocation();

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <aside className="sidebar">
        <Brand />
        <nav aria-label="Main">
          <ul className="nav">
            {NAV.map((item) => (
              <li key={item.to}>
                <NavLink to={item.to} end={item.end} className="nav-link">
                  {item.label}
                </NavLink>
              </li>
            ))}
          </ul>
          {isStaff(viewer) && (
            <>
              <p className="nav-section">Support</p>
              <ul className="nav">
                <li>
                  {/* The accounts list and each account's page; the failed events have their own entry. */}
                  <NavLink
                    to="/admin"
                    className={() => (isAccountsConsole(location.pathname) ? "nav-link active" : "nav-link")}
                  >
                    Admin console
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/billing-events" className="nav-link">
                    Failed billing events
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/overage-discrepancies" className="nav-link">
                    Overage discrepancies
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/providers" className="nav-link">
                    AI providers
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/overview" className="nav-link">
                    Overview
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/work" className="nav-link">
                    Background work
                  </NavLink>
                </li>
                <li>
                  <NavLink to="/admin/audit" className="nav-link">
                    Audit log
                  </NavLink>
                </li>
                {viewer.role === "admin" && (
                  <li>
                    <NavLink to="/admin/api-keys" className="nav-link">
                      Admin API keys
                    </NavLink>
                  </li>
                )}
                <li>
                  <NavLink to="/admin/alerts" className="nav-link">
                    Alerts
                  </NavLink>
                </li>
              </ul>
            </>
          )}
        </nav>
        <div className="account-box">
          <p className="account-email" data-testid="account-email" title={viewer.email}>
            {viewer.email}
          </p>
          <div className="badge-row">
            <PlanBadge plan={viewer.plan} testId="plan-badge" />
            <StateBadge state={viewer.state} testId="state-badge" />
            {viewer.role !== "user" && <span className="role-tag">{viewer.role}</span>}
          </div>
          <button type="button" className="button button-block" onClick={() => void signOut()}>
            Sign out
          </button>
          {methodLabel && <p className="field-hint">{methodLabel}</p>}
        </div>
      </aside>
      <main id="main" className="content" tabIndex={-1}>
        <ConnectionNotice />
        <ErrorBoundary resetKey={location.pathname}>
          <Outlet />
        </ErrorBoundary>
      </main>
    </div>
  );
}
