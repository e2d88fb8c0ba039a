import type { Endpoint } from 'comlink';

/** The slice of `BroadcastChannel` the tunnel needs (injectable for unit tests). */
export interface BroadcastChannelLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  close(): void;
}

/** A frame on the link channel: a message for the endpoint itself, or for a tunnelled port. */
interface Frame {
  /** Virtual port id, or absent for the endpoint's own messages. */
  port?: string;
  data: unknown;
}

/** Where a transferred MessagePort stood in a message. */
interface PortPlaceholder {
  __sharedSessionPort: string;
}

const isPlaceholder = (value: unknown): value is PortPlaceholder =>
  typeof value === 'object' && value !== null && typeof (value as PortPlaceholder).__sharedSessionPort === 'string';

/**
 * A comlink {@link Endpoint} over a BroadcastChannel that two parties (a tab and the leader host)
 * share. BroadcastChannel cannot transfer MessagePorts, but comlink sends callback proxies as
 * transferred ports; so each transferred port is replaced by a placeholder and *tunnelled*: both
 * sides keep a local MessagePort bound to a virtual port id and relay its messages over the
 * channel. The page code is thus the same whether its host is a SharedWorker (real ports) or a
 * leader tab (tunnelled ports). See PROTOCOL.md, "Leader host transport".
 *
 * @param channel - a BroadcastChannel only the two parties use (its name includes both ids)
 */
export function createBroadcastEndpoint(channel: BroadcastChannelLike): Endpoint & { close(): void } {
  const ports = new Map<string, MessagePort>();
  const listeners = new Set<EventListenerOrEventListenerObject>();
  let closed = false;
  /** Posts on the channel unless it was closed (comlink may still release proxies of a dead host). */
  const post = (frame: Frame) => {
    if (!closed) channel.postMessage(frame);
  };

  /** Binds a local port to a virtual id: what it receives goes over the channel. */
  const bind = (id: string, port: MessagePort) => {
    ports.set(id, port);
    port.onmessage = (event: MessageEvent) => {
      post({ port: id, data: encode(event.data, event.ports) });
    };
  };

  /** Replaces each transferred port in `value` by a placeholder and starts relaying it. */
  const encode = (value: unknown, transfer: readonly Transferable[] = []): unknown => {
    const transferred = transfer.filter((t): t is MessagePort => t instanceof MessagePort);
    if (transferred.length === 0) return value;
    const ids = new Map<MessagePort, string>();
    for (const port of transferred) {
      const id = crypto.randomUUID();
      ids.set(port, id);
      bind(id, port);
    }
    const walk = (v: unknown): unknown => {
      const id = v instanceof MessagePort ? ids.get(v) : undefined;
      if (id !== undefined) return { __sharedSessionPort: id } satisfies PortPlaceholder;
      if (Array.isArray(v)) return v.map(walk);
      if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
        return Object.fromEntries(Object.entries(v).map(([k, inner]) => [k, walk(inner)]));
      }
      return v;
    };
    return walk(value);
  };

  /** Replaces each placeholder by a fresh local port whose other end relays over the channel. */
  const decode = (value: unknown): unknown => {
    if (isPlaceholder(value)) {
      const { port1, port2 } = new MessageChannel();
      bind(value.__sharedSessionPort, port1);
      return port2;
    }
    if (Array.isArray(value)) return value.map(decode);
    if (typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
      return Object.fromEntries(Object.entries(value).map(([k, inner]) => [k, decode(inner)]));
    }
    return value;
  };

  const onFrame = (event: MessageEvent) => {
    const frame = event.data as Frame | null;
    if (typeof frame !== 'object' || frame === null || !('data' in frame)) return;
    const data = decode(frame.data);
    if (frame.port !== undefined) {
      ports.get(frame.port)?.postMessage(data);
      return;
    }
    const message = new MessageEvent('message', { data });
    for (const listener of listeners) {
      if (typeof listener === 'function') listener(message);
      else listener.handleEvent(message);
    }
  };
  channel.addEventListener('message', onFrame);

  return {
    postMessage(message: unknown, transfer?: Transferable[]) {
      post({ data: encode(message, transfer) });
    },
    addEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.add(listener);
    },
    removeEventListener(_type: string, listener: EventListenerOrEventListenerObject) {
      listeners.delete(listener);
    },
    close() {
      if (closed) return;
      closed = true;
      channel.removeEventListener('message', onFrame);
      channel.close();
      for (const port of ports.values()) port.close();
      ports.clear();
      listeners.clear();
    },
  };
}
