import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { isSignedOut } from './api.js';
import './styles.css';

const queries = new QueryClient({
  defaultOptions: {
    queries: {
      // A refused call is not retried (the service said no); a lost connection is, twice.
      retry: (failures, error) => failures < 2 && !isSignedOut(error),
      staleTime: 5_000,
      refetchOnWindowFocus: true,
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
