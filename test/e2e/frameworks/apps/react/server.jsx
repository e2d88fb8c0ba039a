// Server rendering of the React app in Node: the same tree as main.jsx, with a client that throws
// on any use, so the render proves that the hooks read only their server snapshots.
import { StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { SessionProvider } from 'shared-session/react';
import { App } from './App.jsx';

const untouchable = new Proxy(
  {},
  {
    get(_target, property) {
      throw new Error(`server rendering touched the client (${String(property)})`);
    },
  },
);

export function render() {
  return renderToString(
    <StrictMode>
      <SessionProvider client={untouchable}>
        <App />
      </SessionProvider>
    </StrictMode>,
  );
}
