import { MutationCache, QueryCache, QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { isSignedOut } from './api.js';
import './styles.css';

/** A call refused because the session is over (ended, expired, revoked): back to the sign-in. */
const onError = (error: unknown): void => {
  if (isSignedOut(error)) queries.setQueryData(['session'], null);
};

const queries: QueryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      // A refused call is not retried (the service said no); a lost connection is, twice.
      retry: (failures, error) => failures < 2 && !isSignedOut(error),
      staleTime: 5_000,
      // Every read of requests is a privileged read in the audit log: screens refresh on
      // purpose (a button, the watch, the counts), never because a window got focus.
      refetchOnWindowFocus: false,
    },
  },
});

const root = document.getElementById('root');
if (root === null) throw new Error('the page has no #root');
createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queries}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
