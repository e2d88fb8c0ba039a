import { StrictMode } from 'react';
import { createRoot, hydrateRoot } from 'react-dom/client';
import { SessionProvider } from 'shared-session/react';
import { bootClient } from '../boot.js';
import { App } from './App.jsx';

const client = bootClient();
const tree = (
  <StrictMode>
    <SessionProvider client={client}>
      <App />
    </SessionProvider>
  </StrictMode>
);
const root = document.getElementById('root');
// ssr.html carries the server-rendered markup of the same tree: hydrate it.
if (root.firstElementChild) hydrateRoot(root, tree);
else createRoot(root).render(tree);
