// The load clients of the publish run: N sessions that each keep `inFlight` publishes outstanding
// (a new one as soon as one is acknowledged, like the session host's outbox) and count the
// `published` answers without parsing them. Every session publishes to its own topic, so each
// session can check what the store promised: seqs 1, 2, 3… in its send order, none duplicated.
import { randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';

/** Options of {@link startPublishing}. */
export interface PublishOptions {
  /** Open, authenticated sockets (after `welcome`). */
  sockets: readonly WebSocket[];
  /** Topic of socket i. */
  topic: (i: number) => string;
  /** Publishes outstanding per socket. */
  inFlight: number;
  /** Approximate bytes of each change's `data`. */
  payloadBytes: number;
}

/** A running publish load. */
export interface PublishLoad {
  /** `published` answers received so far. */
  readonly acked: number;
  /** `error` answers and out-of-order or duplicated seqs seen so far (each is a broken promise). */
  readonly problems: string[];
  /** Ack latencies in ms of every 8th publish since the last {@link PublishLoad.takeLatencies}. */
  takeLatencies(): number[];
  /**
   * Stops sending, waits until every outstanding publish was answered (false after `timeoutMs`),
   * and removes the load's listeners from the sockets.
   */
  stop(timeoutMs: number): Promise<boolean>;
}

/** Publishes whose latency is sampled: one in this many. */
const LATENCY_SAMPLE_EVERY = 8;

/** Starts `inFlight` publishes on every socket and keeps that many outstanding until `stop()`. */
export function startPublishing(options: PublishOptions): PublishLoad {
  const filler = 'x'.repeat(Math.max(0, options.payloadBytes - 40));
  const problems: string[] = [];
  let latencies: number[] = [];
  let acked = 0;
  let outstanding = 0;
  let stopping = false;
  let drained: (() => void) | undefined;
  const published = Buffer.from('{"type":"published"');

  const detach: Array<() => void> = [];
  options.sockets.forEach((ws, i) => {
    const topic = JSON.stringify(options.topic(i));
    let sent = 0;
    let lastSeq = 0;
    const sentAt = new Map<number, number>();
    const send = (): void => {
      sent++;
      outstanding++;
      if (sent % LATENCY_SAMPLE_EVERY === 0) sentAt.set(sent, performance.now());
      ws.send(
        `{"type":"publish","id":${sent},"topic":${topic},"clientId":"${randomUUID()}","data":{"n":${sent},"text":"${filler}"}}`,
      );
    };
    const onMessage = (raw: Buffer): void => {
      outstanding--;
      if (raw.subarray(0, published.length).equals(published)) {
        const { id, seq, duplicate } = JSON.parse(raw.toString()) as { id: number; seq: number; duplicate: boolean };
        acked++;
        const at = sentAt.get(id);
        if (at !== undefined) {
          sentAt.delete(id);
          latencies.push(performance.now() - at);
        }
        // One publisher per topic: its seqs must be 1, 2, 3… in send order (ids too).
        if (duplicate || seq !== lastSeq + 1 || id !== seq)
          problems.push(`socket ${i}: id ${id} got seq ${seq} after ${lastSeq}${duplicate ? ' (duplicate)' : ''}`);
        lastSeq = seq;
      } else {
        problems.push(`socket ${i}: ${raw.toString().slice(0, 200)}`);
      }
      if (!stopping) send();
      else if (outstanding === 0) drained?.();
    };
    ws.on('message', onMessage);
    detach.push(() => ws.off('message', onMessage));
    for (let n = 0; n < options.inFlight; n++) send();
  });

  return {
    get acked() {
      return acked;
    },
    problems,
    takeLatencies() {
      const taken = latencies;
      latencies = [];
      return taken;
    },
    async stop(timeoutMs) {
      stopping = true;
      const complete =
        outstanding === 0 ||
        (await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), timeoutMs);
          drained = () => {
            clearTimeout(timer);
            resolve(true);
          };
        }));
      for (const off of detach) off();
      return complete;
    },
  };
}
