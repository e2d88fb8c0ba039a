// RPC breakdown (bench/profile.ts): comlink exposing a no-op — comlink's own per-call work over
// the envelope, without shared-session's host behind it.
import * as Comlink from 'comlink';

const scope = self as unknown as { addEventListener(type: 'connect', listener: (event: MessageEvent) => void): void };
scope.addEventListener('connect', (event) => {
  for (const port of event.ports) Comlink.expose({ ping: () => Date.now() }, port);
});
