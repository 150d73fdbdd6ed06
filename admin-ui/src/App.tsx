// Routes. /bootstrap and /invite are public; everything under /admin needs a session, and an
// operator who must change the password is sent to that form first.
import { Navigate, Route, Routes, useLocation } from 'react-router';

import { useSession } from './api/queries';
import { Layout } from './components/Layout';
import { Loading, QueryError } from './components/ui';
import { SessionContext } from './lib/session';
import { AccountPage } from './pages/AccountPage';
import { ApiKeysPage } from './pages/ApiKeysPage';
import { AuditLogPage } from './pages/AuditLogPage';
import { BootstrapPage } from './pages/BootstrapPage';
import { InviteAcceptPage } from './pages/InviteAcceptPage';
import { JobsPage } from './pages/JobsPage';
import { LoginPage } from './pages/LoginPage';
import { NotFoundPage, NotFoundPanel } from './pages/NotFoundPage';
import { OperatorsPage } from './pages/OperatorsPage';
import { OverviewPage } from './pages/OverviewPage';
import { PasswordChangePage } from './pages/PasswordChangePage';
import { PoolsPage } from './pages/PoolsPage';
import { RequestLogsPage } from './pages/RequestLogsPage';
import { SettingsPage } from './pages/SettingsPage';
import { SystemPage } from './pages/SystemPage';
import { UpstreamDetailPage } from './pages/UpstreamDetailPage';
import { UpstreamsPage } from './pages/UpstreamsPage';

export function App() {
  return (
    <Routes>
      <Route path="/bootstrap" element={<BootstrapPage />} />
      <Route path="/invite" element={<InviteAcceptPage />} />
      <Route path="/admin/login" element={<LoginPage />} />
      <Route path="/admin/password" element={<PasswordChangePage />} />
      <Route path="/admin" element={<SignedIn />}>
        <Route index element={<OverviewPage />} />
        <Route path="pools" element={<PoolsPage />} />
        <Route path="upstreams" element={<UpstreamsPage />} />
        <Route path="upstreams/:id" element={<UpstreamDetailPage />} />
        <Route path="api-keys" element={<ApiKeysPage />} />
        <Route path="request-logs" element={<RequestLogsPage />} />
        <Route path="audit-log" element={<AuditLogPage />} />
        <Route path="jobs" element={<JobsPage />} />
        <Route path="operators" element={<OwnerOnly><OperatorsPage /></OwnerOnly>} />
        <Route path="settings" element={<OwnerOnly><SettingsPage /></OwnerOnly>} />
        <Route path="system" element={<SystemPage />} />
        <Route path="account" element={<AccountPage />} />
        <Route path="*" element={<NotFoundPanel />} />
      </Route>
      <Route path="*" element={<NotFoundPage />} />
    </Routes>
  );
}

function SignedIn() {
  const session = useSession();
  const location = useLocation();
  if (session.isPending) return <main className="centered"><Loading what="Checking your session" /></main>;
  if (session.isError) return <main className="centered"><QueryError error={session.error} /></main>;
  if (!session.data) {
    const next = `${location.pathname}${location.search}`;
    return <Navigate to={`/admin/login?next=${encodeURIComponent(next)}`} replace />;
  }
  if (session.data.password_change_required) return <Navigate to="/admin/password" replace />;
  return (
    <SessionContext.Provider value={session.data}>
      <Layout />
    </SessionContext.Provider>
  );
}

function OwnerOnly({ children }: { children: React.ReactNode }) {
  const session = useSession();
  if (session.data?.role !== 'instance_owner') {
    return (
      <div className="page">
        <h1>Not available</h1>
        <p>Only instance owners manage operators and settings.</p>
      </div>
    );
  }
  return <>{children}</>;
}
