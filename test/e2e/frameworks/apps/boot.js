// Shared by the three framework apps: one SessionClient per tab for the server named in `?server=`,
// exposed as `window.client` so that the specs can start and end sessions and publish from any tab.
import { SessionClient } from 'shared-session';

/** @returns {SessionClient} */
export function bootClient() {
  const serverUrl = new URL(location.href).searchParams.get('server');
  if (!serverUrl) throw new Error('open the app with ?server=<session server URL>');
  const client = new SessionClient({ serverUrl });
  window.client = client;
  return client;
}
