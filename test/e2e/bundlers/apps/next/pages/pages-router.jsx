// A Pages Router page: prerendered at build time, so shared-session is imported in Node there.
import { useEffect, useState } from 'react';
import { HostUnavailableError, NoActiveSessionError, SessionClient, SessionError } from 'shared-session';

export default function PagesRouter() {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => {
    window.sharedSession = { SessionClient, SessionError, HostUnavailableError, NoActiveSessionError };
    setHydrated(true);
  }, []);
  return (
    <main>
      <h1>Pages Router: SessionClient is a {typeof SessionClient}</h1>
      <p id="status">{hydrated ? 'hydrated' : 'server-rendered'}</p>
    </main>
  );
}
