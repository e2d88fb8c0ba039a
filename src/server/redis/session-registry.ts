import type { Redis } from 'ioredis';
import { SESSION_RETENTION_MS } from '../constants.js';
import type { AttachResult, SessionRegistry } from '../session/registry.js';
import type { RedisKeys } from './keys.js';

/**
 * Binds a session id to its user atomically. KEYS: the session key. ARGV: userId, retention ms.
 * The key holds the owner's `sub` and expires `retention` after it was last touched.
 */
const ATTACH_SCRIPT = `
local owner = redis.call('GET', KEYS[1])
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 'created'
end
if owner ~= ARGV[1] then return 'user-mismatch' end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 'resumed'
`;

interface ScriptedRedis extends Redis {
  sharedSessionAttach(key: string, userId: string, retentionMs: number): Promise<AttachResult>;
}

/**
 * A {@link SessionRegistry} in Redis, shared by every server process: a browser whose socket lands
 * on another process after a reconnect is told `resumed: true`, and a session id stays bound to
 * the user who created it whichever process sees it next.
 *
 * Each session is one key (`<prefix>session:<id>` → owner `sub`) that expires `retentionMs` after
 * it was last touched, so Redis forgets idle sessions by itself and a crashed process leaves no
 * record behind for longer than that: every process refreshes the keys of its own live sessions
 * at each `prune` (the server calls it every heartbeat interval). `forget` (the client's `end`)
 * deletes the key and announces the id on a channel, so every process closes that session's
 * sockets with 4005 ({@link SessionRegistry.onEnded}).
 *
 * @param client - a command connection, owned by the caller
 * @param subscriber - a subscriber connection, owned by the caller, already subscribed to
 *   `keys.sessionEnded` (ioredis subscribes it again after every reconnect)
 * @param keys - key and channel names
 * @param retentionMs - how long an idle session is remembered
 */
export function createRedisSessionRegistry(
  client: Redis,
  subscriber: Redis,
  keys: RedisKeys,
  retentionMs: number = SESSION_RETENTION_MS,
): SessionRegistry & { close(): Promise<void> } {
  if (!Number.isSafeInteger(retentionMs) || retentionMs <= 0)
    throw new TypeError('"sessionRetentionMs" must be a positive integer');
  const scripted = client as ScriptedRedis;
  if (typeof scripted.sharedSessionAttach !== 'function') {
    client.defineCommand('sharedSessionAttach', { numberOfKeys: 1, lua: ATTACH_SCRIPT });
  }
  /** Sockets of this process per session id. */
  const local = new Map<string, number>();
  const endedListeners = new Set<(sessionId: string) => void>();

  const onMessage = (channel: string, sessionId: string): void => {
    if (channel !== keys.sessionEnded) return;
    for (const listener of endedListeners) listener(sessionId);
  };
  subscriber.on('message', onMessage);

  return {
    async attach(sessionId, userId) {
      const result = await scripted.sharedSessionAttach(keys.session(sessionId), userId, retentionMs);
      if (result !== 'user-mismatch') local.set(sessionId, (local.get(sessionId) ?? 0) + 1);
      return result;
    },

    async detach(sessionId) {
      const count = local.get(sessionId);
      if (count === undefined) return;
      if (count > 1) local.set(sessionId, count - 1);
      else local.delete(sessionId);
      // The idle period starts now; another process's live socket keeps refreshing it.
      await client.pexpire(keys.session(sessionId), retentionMs);
    },

    async forget(sessionId) {
      local.delete(sessionId);
      await client.multi().del(keys.session(sessionId)).publish(keys.sessionEnded, sessionId).exec();
    },

    async prune() {
      if (local.size === 0) return 0;
      const pipeline = client.pipeline();
      for (const sessionId of local.keys()) pipeline.pexpire(keys.session(sessionId), retentionMs);
      await pipeline.exec();
      return 0; // Redis expires idle sessions itself
    },

    onEnded(listener) {
      const wrapper = (sessionId: string): void => listener(sessionId);
      endedListeners.add(wrapper);
      return () => endedListeners.delete(wrapper);
    },

    async close() {
      subscriber.off('message', onMessage);
      endedListeners.clear();
    },
  };
}
