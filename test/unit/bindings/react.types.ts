/**
 * Type tests of `shared-session/react`, checked by `npm run typecheck` (tsc), not run: `T` flows
 * into `change.data`, the hook results have exactly their documented shapes, and misuse does not
 * compile (each `@ts-expect-error` line must be an error).
 */
import type { SessionError } from '../../../src/errors/index.js';
import type { ConnectionStatus, JsonValue, SessionClient, SessionInfo } from '../../../src/page/index.js';
import {
  type TopicChange,
  useConnectionStatus,
  useInfiniteTopic,
  usePaginatedTopic,
  useSession,
  useSessionClient,
  useSessionError,
  useTopic,
} from '../../../src/react/index.js';

type Equals<A, B> = (<X>() => X extends A ? 1 : 2) extends <X>() => X extends B ? 1 : 2 ? true : false;
const assertType = <T extends true>(_proof?: T) => undefined;

interface Message {
  text: string;
  author: string;
}

export function TypeTests(): null {
  const status = useConnectionStatus();
  assertType<Equals<typeof status, ConnectionStatus>>();
  const session = useSession();
  assertType<Equals<typeof session, SessionInfo | undefined>>();
  const client = useSessionClient();
  assertType<Equals<typeof client, SessionClient>>();
  useSessionError((type) =>
    assertType<Equals<typeof type, 'UNAUTHORIZED' | 'SCHEMA_MISMATCH' | 'TOKEN_EXPIRED' | 'ROLES_MISMATCH'>>(),
  );

  const live = useTopic<Message>('room', { since: 3 });
  assertType<Equals<typeof live.changes, readonly TopicChange<Message>[]>>();
  assertType<Equals<(typeof live.changes)[number]['data'], Message>>();
  assertType<Equals<typeof live.error, SessionError | undefined>>();
  const first = live.changes[0];
  if (first) {
    assertType<Equals<typeof first.data.text, string>>();
    assertType<Equals<typeof first.seq, number>>();
    // @ts-expect-error `data` is a Message: it has no `body`
    void first.data.body;
  }
  // @ts-expect-error the snapshot is read-only
  live.changes.push(live.changes[0]!);

  const untyped = useTopic('room');
  assertType<Equals<(typeof untyped.changes)[number]['data'], JsonValue>>();

  const feed = useInfiniteTopic<Message>('chat', { pageSize: 20 });
  assertType<Equals<(typeof feed.changes)[number]['data'], Message>>();
  assertType<Equals<typeof feed.hasMore, boolean>>();
  assertType<Equals<typeof feed.loadMore, () => Promise<void>>>();
  assertType<Equals<keyof typeof feed, 'changes' | 'hasMore' | 'loadMore' | 'loading' | 'error'>>();

  const pages = usePaginatedTopic<Message>('audit', { pageSize: 25 });
  assertType<Equals<(typeof pages.changes)[number]['data'], Message>>();
  assertType<Equals<typeof pages.page, number>>();
  assertType<Equals<typeof pages.nextPage, () => Promise<void>>>();
  assertType<
    Equals<
      keyof typeof pages,
      'changes' | 'page' | 'hasNextPage' | 'hasPreviousPage' | 'nextPage' | 'prevPage' | 'loading' | 'error'
    >
  >();

  // @ts-expect-error a topic is a string
  useTopic(42);
  // @ts-expect-error `since` is a number
  useTopic('room', { since: '3' });
  // @ts-expect-error paged topics take `pageSize`, not `limit`
  useInfiniteTopic('chat', { limit: 20 });
  // @ts-expect-error the error callback receives a session error type, not an Error
  useSessionError((type: Error) => type);
  return null;
}
