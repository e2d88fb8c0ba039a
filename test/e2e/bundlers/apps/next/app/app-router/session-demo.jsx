'use client';
import { useEffect, useState } from 'react';
import { HostUnavailableError, NoActiveSessionError, SessionClient, SessionError } from 'shared-session';

/** Imports shared-session at module level (server render included); hands it to the test once hydrated. */
export default function SessionDemo() {
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => {
    window.sharedSession = { SessionClient, SessionError, HostUnavailableError, NoActiveSessionError };
    setHydrated(true);
  }, []);
  return <p id="status">{hydrated ? 'hydrated' : 'server-rendered'}</p>;
}
