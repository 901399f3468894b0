import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from './api/client';
import type { Session } from './api/types';
import { ErrorNotice, Loading } from './components/states';
import { LiveEvents, useLiveStatus } from './live';
import { Link, match, navigate, useLocation } from './router';
import { SessionContext } from './session';
import { can } from './api/client';
import { AgentsView } from './views/agents';
import { ApprovalsView } from './views/approvals';
import { AuditView } from './views/audit';
import { AgentView } from './views/agent';
import { FeedView } from './views/feed';
import { FleetView } from './views/fleet';
import { LoginView } from './views/login';
import { OverviewView } from './views/overview';
import { PolicyEditorView } from './views/policy-editor';
import { PoliciesView } from './views/policies';
import { TokensView } from './views/tokens';
import { UsersView } from './views/users';
import { useSession } from './session';

const NAV = [
  { to: '/', label: 'Overview', active: (path: string) => path === '/' },
  { to: '/feed', label: 'Live feed', active: (path: string) => path.startsWith('/feed') },
  { to: '/approvals', label: 'Approvals', active: (path: string) => path.startsWith('/approvals') },
  { to: '/fleet', label: 'Fleet', active: (path: string) => path.startsWith('/fleet') },
  { to: '/policies', label: 'Policies', active: (path: string) => path.startsWith('/policies') },
  { to: '/audit', label: 'Audit', active: (path: string) => path.startsWith('/audit') },
  { to: '/agents', label: 'Agents', active: (path: string) => path.startsWith('/agents') },
  { to: '/users', label: 'People', active: (path: string) => path.startsWith('/users'), only: can.manage },
  { to: '/tokens', label: 'Tokens', active: (path: string) => path.startsWith('/tokens') },
];

type SessionState = { state: 'checking' } | { state: 'signed-out'; error?: ApiError } | { state: 'signed-in'; session: Session };

export function App() {
  const [session, setSession] = useState<SessionState>({ state: 'checking' });

  useEffect(() => {
    api.get<Session>('/v1/auth/session').then(
      (current) => {
        api.setCsrfToken(current.csrfToken ?? undefined);
        setSession({ state: 'signed-in', session: current });
      },
      (error: unknown) => setSession(error instanceof ApiError && error.status !== 401 ? { state: 'signed-out', error } : { state: 'signed-out' }),
    );
    return api.onUnauthorized(() => {
      api.setCsrfToken(undefined);
      setSession({ state: 'signed-out', error: new ApiError(401, 'invalid_session', 'Your session has ended; sign in again.') });
    });
  }, []);

  const signedIn = useCallback((next: Session) => {
    api.setCsrfToken(next.csrfToken ?? undefined);
    setSession({ state: 'signed-in', session: next });
  }, []);

  const logout = useCallback(() => {
    api.post('/v1/auth/logout').finally(() => {
      api.setCsrfToken(undefined);
      setSession({ state: 'signed-out' });
      navigate('/');
    });
  }, []);

  if (session.state === 'checking') return <Loading what="Checking your session" />;
  if (session.state === 'signed-out') return <LoginView onSignedIn={signedIn} notice={session.error} />;
  return (
    <SessionContext.Provider value={{ user: session.session.user, logout }}>
      <LiveEvents>
        <Shell />
      </LiveEvents>
    </SessionContext.Provider>
  );
}

function Shell() {
  const { path } = useLocation();
  const { user } = useSession();
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">Airlock</span>
        <nav aria-label="Main">
          <ul>
            {NAV.filter((item) => !item.only || item.only(user.role)).map((item) => (
              <li key={item.to}>
                <Link to={item.to} aria-current={item.active(path) ? 'page' : undefined}>
                  {item.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
        <UserMenu />
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={path} />
      </main>
    </div>
  );
}

function Page({ path }: { path: string }) {
  const page = useMemo(() => {
    if (path === '/') return <OverviewView />;
    if (path === '/feed') return <FeedView />;
    if (path === '/approvals') return <ApprovalsView selected={undefined} />;
    const approval = match('/approvals/:id', path);
    if (approval) return <ApprovalsView selected={approval.id} />;
    if (path === '/fleet') return <FleetView />;
    const agent = match('/fleet/:id', path);
    if (agent) return <AgentView id={agent.id as string} />;
    if (path === '/policies') return <PoliciesView />;
    if (path === '/policies/edit') return <PolicyEditorView />;
    if (path === '/audit') return <AuditView />;
    if (path === '/agents') return <AgentsView />;
    if (path === '/users') return <UsersView />;
    if (path === '/tokens') return <TokensView />;
    return <ErrorNotice error={new Error(`There is no page at ${path}.`)} action={<Link to="/">Go to the overview</Link>} />;
  }, [path]);
  return page;
}

function LiveIndicator() {
  const status = useLiveStatus();
  const label = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline' }[status];
  return (
    <span className={`live-indicator live-${status}`} role="status" aria-live="polite" title="Live updates from /v1/events">
      <span className="dot" aria-hidden="true" /> {label}
    </span>
  );
}

function UserMenu() {
  return (
    <SessionContext.Consumer>
      {(session) =>
        session ? (
          <div className="user">
            <span>
              {session.user.username} <span className="role">{session.user.role}</span>
            </span>
            <button type="button" className="link-button" onClick={session.logout}>
              Sign out
            </button>
          </div>
        ) : null
      }
    </SessionContext.Consumer>
  );
}
