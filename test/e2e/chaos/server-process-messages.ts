/**
 * The IPC messages between a chaos spec and a reference-server child process
 * (`server-process.ts`), typed once for both sides.
 */
import type { SessionServerStats } from '../../../src/server/index.ts';

/** What the child needs to serve: the built server module, the port, the key and the LMDB store. */
export interface ServeRequest {
  type: 'serve';
  /** Port to listen on (0: a free one, for the first generation). */
  port: number;
  /** HS256 secret the tokens are signed with. */
  secret: string;
  /** Directory of the durable LMDB topic store, shared by every generation. */
  storePath: string;
  /** Topic the child's own publisher appends to. */
  topic: string;
  /** Pause between two `server.publish` calls of the child's publisher, ms. */
  publishIntervalMs: number;
  /** This process's number, 1, 2, …: tags the changes it publishes. */
  generation: number;
}

/** Parent → child. */
export type ToServerProcess =
  | ServeRequest
  | { type: 'stats'; id: number }
  | { type: 'stop-publishing'; id: number }
  /** The topic's last seq in the store. */
  | { type: 'head'; id: number }
  /** A graceful shutdown: `server.close()` (4503 to every socket), then exit. */
  | { type: 'shut-down' };

/** Data of a change the child's publisher appended. */
export interface ServerChangeData {
  src: 'server';
  generation: number;
  n: number;
}

/** Child → parent. */
export type FromServerProcess =
  /** The server module is loaded; the child waits for `serve`. */
  | { type: 'warm' }
  | { type: 'listening'; port: number; at: number }
  /** `server.publish` of change `n` resolved with `seq`. */
  | { type: 'acked'; generation: number; n: number; seq: number }
  | { type: 'stats'; id: number; stats: SessionServerStats }
  | { type: 'publishing-stopped'; id: number }
  | { type: 'head'; id: number; seq: number }
  | { type: 'failed'; message: string };
