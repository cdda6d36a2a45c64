import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { currentViewer, signIn, signOut } from './api.js';
import { useViewer, ViewerContext } from './viewer.js';
import { Pending } from './format.js';
import { Link, navigate, useLocation } from './router.js';
import { AuditScreen } from './screens/audit.js';
import { DeadlinesScreen } from './screens/deadlines.js';
import { LinkedServicesScreen } from './screens/linked-services.js';
import { QueueScreen } from './screens/queue.js';
import { RequestScreen } from './screens/request.js';
import { SafetyScreen } from './screens/safety.js';

/** The screens, each shown in the navigation only to viewers allowed to read it. */
const SCREENS = [
  { path: '/', title: 'Queue', needs: 'listDeletionRequests' },
  { path: '/deadlines', title: 'Deadlines', needs: 'listDeletionRequests' },
  { path: '/services', title: 'Linked services', needs: 'listLinkedServices' },
  { path: '/audit', title: 'Audit', needs: 'listAuditEvents' },
  { path: '/safety', title: 'Safety', needs: 'getSafetyStatus' },
] as const;

export const App = () => {
  const session = useQuery({ queryKey: ['session'], queryFn: currentViewer, staleTime: 60_000 });
  if (session.isPending) return <Pending />;
  if (session.isError) return <Pending error={session.error.message} />;
  if (session.data === null) return <SignIn />;
  return (
    <ViewerContext.Provider value={session.data}>
      <Shell />
    </ViewerContext.Provider>
  );
};

const SignIn = () => {
  const queries = useQueryClient();
  const [credential, setCredential] = useState('');
  const login = useMutation({
    mutationFn: signIn,
    onSuccess: (viewer) => {
      setCredential('');
      queries.setQueryData(['session'], viewer);
    },
  });
  const submit = (event: { preventDefault(): void }) => {
    event.preventDefault();
    login.mutate(credential);
  };
  return (
    <main className="sign-in">
      <h1>Account deletions</h1>
      <p>Sign in with your access token or API key, as for the tRPC API.</p>
      <form onSubmit={submit}>
        <label htmlFor="credential">Token or API key</label>
        <input
          id="credential"
          type="password"
          autoComplete="off"
          value={credential}
          onChange={(event) => setCredential(event.target.value)}
        />
        <button type="submit" disabled={credential.trim() === '' || login.isPending}>
          Sign in
        </button>
      </form>
      {login.isError && (
        <p role="alert" className="error">
          {login.error.message}
        </p>
      )}
      <p className="muted small">
        The console keeps your credential in an HttpOnly cookie of this site only, never in the
        page’s storage or in a link. In development, <code>npm start</code> prints the operator’s
        token and writes it to <code>.data/dev-credentials.json</code>.
      </p>
    </main>
  );
};

const Shell = () => {
  const viewer = useViewer();
  const queries = useQueryClient();
  const { path } = useLocation();
  const out = useMutation({
    mutationFn: signOut,
    onSuccess: () => {
      queries.clear();
      queries.setQueryData(['session'], null);
      navigate('/');
    },
  });
  const screens = SCREENS.filter((screen) => viewer.allowed.includes(screen.needs));
  return (
    <div className="shell">
      <header>
        <span className="brand">Account deletions</span>
        <nav aria-label="Screens">
          {screens.map((screen) => (
            <Link
              key={screen.path}
              to={screen.path}
              className={path === screen.path ? 'current' : ''}
            >
              {screen.title}
            </Link>
          ))}
        </nav>
        <span className="who" title={viewer.scopes.join(' ')}>
          {viewer.actor.id}
          <button type="button" className="link" onClick={() => out.mutate()}>
            Sign out
          </button>
        </span>
      </header>
      <main>
        <Screen path={path} />
      </main>
    </div>
  );
};

const Screen = ({ path }: { readonly path: string }) => {
  const request = /^\/requests\/([A-Za-z0-9-]{1,64})$/.exec(path);
  if (request?.[1] !== undefined) return <RequestScreen id={request[1]} />;
  switch (path) {
    case '/':
      return <QueueScreen />;
    case '/deadlines':
      return <DeadlinesScreen />;
    case '/services':
      return <LinkedServicesScreen />;
    case '/audit':
      return <AuditScreen />;
    case '/safety':
      return <SafetyScreen />;
    default:
      return <p>No such screen.</p>;
  }
};
