import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { SessionClient } from 'shared-session';
import { SessionProvider } from 'shared-session/react';
import { App } from './App.tsx';
import { loadConfig } from './tokens.ts';

const { serverUrl } = await loadConfig();
const client = new SessionClient({ serverUrl });

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <SessionProvider client={client}>
      <App />
    </SessionProvider>
  </StrictMode>,
);
