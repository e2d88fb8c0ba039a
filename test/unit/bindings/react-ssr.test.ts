import { createElement, Fragment, StrictMode } from 'react';
import { renderToString } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  SessionProvider,
  useConnectionStatus,
  useInfiniteTopic,
  usePaginatedTopic,
  useSession,
  useSessionError,
  useTopic,
} from '../../../src/react/index.js';
import { untouchableClient } from './memory-client.js';

function Everything() {
  const status = useConnectionStatus();
  const session = useSession();
  useSessionError(() => undefined);
  const live = useTopic<string>('room');
  const feed = useInfiniteTopic<string>('chat', { pageSize: 5 });
  const pages = usePaginatedTopic<string>('audit', { pageSize: 5 });
  return createElement(
    Fragment,
    null,
    `status=${status} user=${session?.userId ?? 'none'} live=${live.changes.length} ` +
      `feed=${feed.changes.length}/${feed.hasMore}/${feed.loading} page=${pages.page}/${pages.hasNextPage}`,
  );
}

describe('shared-session/react in server rendering', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renders every hook from its server snapshot without touching the client, with no warning', () => {
    const errors = vi.spyOn(console, 'error');
    const warnings = vi.spyOn(console, 'warn');
    const html = renderToString(
      createElement(
        StrictMode,
        null,
        createElement(SessionProvider, { client: untouchableClient() }, createElement(Everything)),
      ),
    );
    expect(html).toBe('status=UNINITIALIZED user=none live=0 feed=0/false/true page=0/false');
    expect(errors).not.toHaveBeenCalled();
    expect(warnings).not.toHaveBeenCalled();
  });

  it('says which provider is missing when a hook runs without one', () => {
    expect(() => renderToString(createElement(Everything))).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('<SessionProvider') }),
    );
  });
});
