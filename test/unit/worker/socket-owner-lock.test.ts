import { describe, expect, it } from 'vitest';
import { CLOSE_RELEASE_TIMEOUT_MS, releaseWhenClosed } from '../../../src/worker/socket-owner-lock.js';
import { FakeClock } from '../support/fake-clock.js';

/** An ownership that records its release, and a socket whose close the test finishes. */
function setUp() {
  const clock = new FakeClock();
  const released: number[] = [];
  const owned = { release: () => void released.push(clock.now()), lost: new Promise<void>(() => undefined) };
  const socket: { onclose: (() => void) | null } = { onclose: null };
  return { clock, released, owned, socket };
}

describe('releaseWhenClosed (one socket at the server across hosts)', () => {
  it('keeps the socket-owner lock until the socket has closed, then lets it go once', async () => {
    const { clock, released, owned, socket } = setUp();
    const t0 = clock.now();
    releaseWhenClosed(owned, socket as unknown as WebSocket, clock);
    await clock.advance(40);
    expect(released, 'still held while the close handshake runs').toEqual([]);
    socket.onclose?.();
    expect(released).toEqual([t0 + 40]);
    await clock.advance(CLOSE_RELEASE_TIMEOUT_MS);
    expect(released, 'not released twice').toHaveLength(1);
  });

  it('lets the lock go after CLOSE_RELEASE_TIMEOUT_MS when the close never completes', async () => {
    const { clock, released, owned, socket } = setUp();
    const t0 = clock.now();
    releaseWhenClosed(owned, socket as unknown as WebSocket, clock);
    await clock.advance(CLOSE_RELEASE_TIMEOUT_MS);
    expect(released).toEqual([t0 + CLOSE_RELEASE_TIMEOUT_MS]);
    expect(socket.onclose).toBeNull();
  });
});
