// A server entry as Vite SSR loads it (dependencies externalized: Node imports the package itself).
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { SessionClient } from 'shared-session';
import { SessionProvider } from 'shared-session/react';
import { checkEntries } from './check-entries.js';

export async function render() {
  const html = renderToString(
    createElement('p', null, `SessionClient is a ${typeof SessionClient}, SessionProvider a ${typeof SessionProvider}`),
  );
  return { html, ...(await checkEntries()) };
}
