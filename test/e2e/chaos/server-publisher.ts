/**
 * The server-side writer of the server-kills chaos spec: appends `{ src: 'server', generation, n }`
 * with `server.publish` one after another, every `intervalMs`, and reports each acknowledged one.
 * Runs beside an in-process server and inside a server child process alike.
 */
import type { SessionServer } from '../../../src/server/index.ts';
import type { ServerChangeData } from './server-process-messages.ts';

/** What the publisher reports. */
export interface PublisherEvents {
  /** `server.publish` of change `n` resolved with `seq`. */
  acked(n: number, seq: number): void;
  /** A publish failed while the publisher was meant to run. */
  failed(message: string): void;
}

/** A running publisher. */
export interface ServerPublisher {
  /** Stops after the publish in flight; resolves once it settled. */
  stop(): Promise<void>;
}

/** Starts publishing to `topic` on `server`, tagging the changes with `generation`. */
export function startServerPublisher(
  server: Pick<SessionServer, 'publish'>,
  topic: string,
  generation: number,
  intervalMs: number,
  events: PublisherEvents,
): ServerPublisher {
  let running = true;
  const done = (async () => {
    for (let n = 1; running; n++) {
      const data = { src: 'server', generation, n } satisfies ServerChangeData;
      try {
        const { seq } = await server.publish(topic, data);
        events.acked(n, seq);
      } catch (error) {
        // A publish that fails because the server is being killed is expected (it may or may not be
        // stored); one that fails while the publisher runs is a failure.
        if (running) events.failed(`publish ${n} of generation ${generation} failed: ${String(error)}`);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}
