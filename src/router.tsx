import { lazy, Suspense, type ReactNode } from "react";
import { createBrowserRouter, Link, useRouteError } from "react-router";
import { Layout } from "./components/Layout";
import { Loading } from "./components/Loading";
import { ErrorNotice } from "./components/ErrorNotice";
import { DashboardPage } from "./pages/DashboardPage";
import { KeysPage } from "./pages/KeysPage";
import { BillingPage } from "./pages/BillingPage";
import { ConnectPage } from "./pages/ConnectPage";
import { DevicePage } from "./pages/DevicePage";
import { InstancesPage } from "./pages/InstancesPage";
import { SettingsPage } from "./pages/SettingsPage";
import { NotFoundPage } from "./pages/NotFoundPage";
import { RequireStaff } from "./pages/admin/RequireStaff";
import { AdminAccountsPage } from "./pages/admin/AdminAccountsPage";
import { AdminAccountPage } from "./pages/admin/AdminAccountPage";
import { FailedBillingEventsPage } from "./pages/admin/FailedBillingEventsPage";
import { OverageDiscrepanciesPage } from "./pages/admin/OverageDiscrepanciesPage";
import { ProvidersPage } from "./pages/admin/ProvidersPage";
import { BackgroundWorkPage } from "./pages/admin/BackgroundWorkPage";
import { AuditLogPage } from "./pages/admin/AuditLogPage";
import { AdminApiKeysPage } from "./pages/admin/AdminApiKeysPage";
import { AlertsPage } from "./pages/admin/AlertsPage";

// The chart library is most of the bundle; load it with the page that draws charts.
const UsagePage = lazy(() => import("./pages/UsagePage"));
const OverviewPage = lazy(() => import("./pages/admin/OverviewPage"));

function Deferred({ children }: { children: ReactNode }) {
  return <Suspense fallback={<Loading />}>{children}</Suspense>;
}

function RouteError() {
  const error = useRouteError();
  return (
    <div className="content-narrow">
      <ErrorNotice error={error} />
      <p>
        <Link to="/">Back to the dashboard</Link>
      </p>
    </div>
  );
}

export const router = createBrowserRouter([
  // The OAuth consent page (the authorization endpoint Dex instances open) and the device flow's
  // verification page: focused screens without the app's navigation (convex/oauth/README.md).
  { path: "connect", element: <ConnectPage />, errorElement: <RouteError /> },
  { path: "device", element: <DevicePage />, errorElement: <RouteError /> },
  {
    element: <Layout />,
    errorElement: <RouteError />,
    children: [
      { index: true, element: <DashboardPage /> },
      { path: "keys", element: <KeysPage /> },
      {
        path: "usage",
        element: (
          <Deferred>
            <UsagePage />
          </Deferred>
        ),
      },
      // Also checkout's return page: /billing?checkout=success | canceled (convex/billing/sessions.ts).
      { path: "billing", element: <BillingPage /> },
      { path: "instances", element: <InstancesPage /> },
      { path: "settings", element: <SettingsPage /> },
      {
        path: "admin",
        element: <RequireStaff />,
        children: [
          { index: true, element: <AdminAccountsPage /> },
          { path: "accounts/:userId", element: <AdminAccountPage /> },
          { path: "billing-events", element: <FailedBillingEventsPage /> },
          { path: "overage-discrepancies", element: <OverageDiscrepanciesPage /> },
          { path: "providers", element: <ProvidersPage /> },
          {
            path: "overview",
            element: (
              <Deferred>
                <OverviewPage />
              </Deferred>
            ),
          },
          { path: "work", element: <BackgroundWorkPage /> },
          { path: "audit", element: <AuditLogPage /> },
          { path: "api-keys", element: <AdminApiKeysPage /> },
          { path: "alerts", element: <AlertsPage /> },
        ],
      },
      { path: "*", element: <NotFoundPage /> },
    ],
  },
]);
