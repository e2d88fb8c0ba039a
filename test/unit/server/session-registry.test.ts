import { describe, expect, it } from 'vitest';
import { createMemorySessionRegistry } from '../../../src/server/index.js';

describe('createMemorySessionRegistry', () => {
  it('creates an unknown session, resumes a known one for its owner, and refuses another user', () => {
    const registry = createMemorySessionRegistry();
    expect(registry.attach('s1', 'alice', 0)).toBe('created');
    expect(registry.attach('s1', 'alice', 1)).toBe('resumed');
    expect(registry.attach('s1', 'bob', 2)).toBe('user-mismatch');
  });

  it('remembers a session after its last socket detached, until the retention ends', () => {
    const registry = createMemorySessionRegistry({ retentionMs: 1000 });
    registry.attach('s1', 'alice', 0);
    registry.detach('s1', 100);
    expect(registry.attach('s1', 'alice', 1099)).toBe('resumed');
    registry.detach('s1', 1100);
    expect(registry.prune(2099)).toBe(0);
    expect(registry.prune(2100)).toBe(1);
    expect(registry.attach('s1', 'bob', 2200)).toBe('created');
  });

  it('never drops a session that still has a socket, however old', () => {
    const registry = createMemorySessionRegistry({ retentionMs: 10, maxIdleSessions: 0 });
    registry.attach('live', 'alice', 0);
    expect(registry.prune(1_000_000)).toBe(0);
    expect(registry.has('live')).toBe(true);
  });

  it('keeps the session live while any of its sockets remains', () => {
    const registry = createMemorySessionRegistry({ retentionMs: 10 });
    registry.attach('s1', 'alice', 0);
    registry.attach('s1', 'alice', 0);
    registry.detach('s1', 5);
    expect(registry.prune(1000)).toBe(0);
    registry.detach('s1', 1000);
    expect(registry.prune(1010)).toBe(1);
  });

  it('drops the least recently idle sessions beyond maxIdleSessions', () => {
    const registry = createMemorySessionRegistry({ maxIdleSessions: 2 });
    for (const [i, id] of ['a', 'b', 'c'].entries()) {
      registry.attach(id, 'alice', i);
      registry.detach(id, i);
    }
    expect(registry.has('a')).toBe(false);
    expect(registry.has('b') && registry.has('c')).toBe(true);
    expect(registry.size).toBe(2);
  });

  it('forgets an ended session so its id starts fresh', () => {
    const registry = createMemorySessionRegistry();
    registry.attach('s1', 'alice', 0);
    registry.forget('s1');
    registry.detach('s1', 1);
    expect(registry.has('s1')).toBe(false);
    expect(registry.attach('s1', 'bob', 2)).toBe('created');
  });
});
