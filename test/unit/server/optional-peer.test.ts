import { describe, expect, it } from 'vitest';
import {
  IOREDIS_PEER,
  LMDB_PEER,
  loadOptionalPeer,
  MissingPeerDependencyError,
  type OptionalPeer,
} from '../../../src/server/optional-peer.js';

/** A peer no registry has: importing it fails the way a missing `lmdb` does in a lean install. */
const ABSENT_PEER: OptionalPeer = { name: 'shared-session-absent-peer', neededBy: 'the test store' };

describe('optional peers (lmdb, ioredis)', () => {
  it('a peer that is not installed rejects with MissingPeerDependencyError naming the package to install', async () => {
    // A real dynamic import of a name that resolves nowhere: Node's own ERR_MODULE_NOT_FOUND.
    const error = await loadOptionalPeer(ABSENT_PEER, () => import(ABSENT_PEER.name)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MissingPeerDependencyError);
    expect(error).toMatchObject({
      name: 'MissingPeerDependencyError',
      code: 'MISSING_PEER_DEPENDENCY',
      packageName: 'shared-session-absent-peer',
      message:
        'the test store needs the optional peer dependency "shared-session-absent-peer", which is not installed: ' +
        'run `npm install shared-session-absent-peer`',
    });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
    expect(MissingPeerDependencyError.code).toBe('MISSING_PEER_DEPENDENCY');
  });

  it("a missing package that is not the peer itself (one of the peer's own imports) keeps Node's error", async () => {
    const other: OptionalPeer = { name: 'lmdb', neededBy: 'the durable LMDB store' };
    const error = await loadOptionalPeer(other, () => import(ABSENT_PEER.name)).catch((e: unknown) => e);
    expect(error).not.toBeInstanceOf(MissingPeerDependencyError);
    expect(error).toMatchObject({ code: 'ERR_MODULE_NOT_FOUND' });
  });

  it('an installed peer loads on first use', async () => {
    const lmdb = await loadOptionalPeer(LMDB_PEER, () => import('lmdb'));
    expect(typeof lmdb.open).toBe('function');
    const ioredis = await loadOptionalPeer(IOREDIS_PEER, () => import('ioredis'));
    expect(typeof ioredis.Redis).toBe('function');
  });

  it('each store names its own package and the options that choose it', () => {
    expect(new MissingPeerDependencyError(LMDB_PEER).message).toBe(
      'the durable LMDB store (`store: { path }`, `--data`, `openLmdbTopicStore`) needs the optional peer dependency ' +
        '"lmdb", which is not installed: run `npm install lmdb`',
    );
    expect(new MissingPeerDependencyError(IOREDIS_PEER).message).toMatch(/"ioredis".*npm install ioredis/);
  });
});
