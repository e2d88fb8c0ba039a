import { memo, useRef, useState } from 'react';
import {
  useConnectionStatus,
  useInfiniteTopic,
  usePaginatedTopic,
  useSession,
  useSessionError,
  useTopic,
} from 'shared-session/react';
import { PAGE_SIZE, TOPICS } from '../topics.ts';

/**
 * Counts its renders in `window.statusRenders`: background refreshes must not add any. `memo`, so
 * that only its own hook can render it (the parent re-renders when the session's expiry moves).
 */
const Status = memo(function Status() {
  const status = useConnectionStatus();
  const renders = useRef(0);
  renders.current += 1;
  if (typeof window !== 'undefined') window.statusRenders = renders.current;
  return <p data-testid="status">{status}</p>;
});

function Live() {
  const { changes, error } = useTopic(TOPICS.live);
  return (
    <section>
      <ul data-testid="live">
        {changes.map((change) => (
          <li key={change.seq}>{change.data.text}</li>
        ))}
      </ul>
      {error && <p data-testid="live-error">{error.code}</p>}
    </section>
  );
}

function Infinite() {
  const { changes, hasMore, loadMore, loading, error } = useInfiniteTopic(TOPICS.infinite, { pageSize: PAGE_SIZE });
  return (
    <section>
      <button type="button" data-testid="load-more" disabled={!hasMore || loading} onClick={loadMore}>
        older
      </button>
      <p data-testid="has-more">{String(hasMore)}</p>
      <ul data-testid="infinite">
        {changes.map((change) => (
          <li key={change.seq}>{change.data.text}</li>
        ))}
      </ul>
      {error && <p data-testid="infinite-error">{error.code}</p>}
    </section>
  );
}

function Paginated() {
  const { changes, page, hasNextPage, hasPreviousPage, nextPage, prevPage, loading } = usePaginatedTopic(
    TOPICS.paginated,
    { pageSize: PAGE_SIZE },
  );
  return (
    <section>
      <button type="button" data-testid="prev-page" disabled={!hasPreviousPage || loading} onClick={prevPage}>
        newer
      </button>
      <span data-testid="page">{page}</span>
      <button type="button" data-testid="next-page" disabled={!hasNextPage || loading} onClick={nextPage}>
        older
      </button>
      <ul data-testid="paginated">
        {changes.map((change) => (
          <li key={change.seq}>{change.data.text}</li>
        ))}
      </ul>
    </section>
  );
}

/** The app every React tab renders (also rendered with renderToString in Node). */
export function App() {
  const session = useSession();
  const [lastError, setLastError] = useState('none');
  useSessionError(setLastError);
  return (
    <main>
      <Status />
      <p data-testid="user">{session ? session.userId : 'none'}</p>
      <p data-testid="tabs">{session ? session.tabs : 0}</p>
      <p data-testid="session-error">{lastError}</p>
      {session && (
        <div key={session.userId}>
          <Live />
          <Infinite />
          <Paginated />
        </div>
      )}
    </main>
  );
}
