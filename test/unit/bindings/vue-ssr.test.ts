import { createSSRApp, h } from 'vue';
import { renderToString } from 'vue/server-renderer';
import { afterEach, describe, expect, it, vi } from 'vitest';
import * as B from '../../../src/vue/index.js';
import { untouchableClient } from './memory-client.js';

describe('shared-session/vue in server rendering', () => {
  afterEach(() => vi.restoreAllMocks());

  it('renders every composable from its server snapshot without touching the client, with no warning', async () => {
    const warnings = vi.spyOn(console, 'warn');
    const errors = vi.spyOn(console, 'error');
    const app = createSSRApp({
      setup() {
        B.useSessionError(() => undefined);
        const status = B.useConnectionStatus();
        const session = B.useSession();
        const live = B.useTopic('room');
        const feed = B.useInfiniteTopic('chat');
        const pages = B.usePaginatedTopic('log');
        return () =>
          h(
            'p',
            `${status.value} ${session.value?.userId ?? 'none'} ${live.changes.value.length} ` +
              `${feed.loading.value} ${pages.page.value}`,
          );
      },
    });
    app.provide(B.SESSION_CLIENT_KEY, untouchableClient());
    expect(await renderToString(app)).toBe('<p>UNINITIALIZED none 0 true 0</p>');
    expect(warnings).not.toHaveBeenCalled();
    expect(errors).not.toHaveBeenCalled();
  });
});
