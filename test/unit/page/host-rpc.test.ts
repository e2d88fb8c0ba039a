import { describe, expect, it } from 'vitest';
import { HostUnavailableError, SessionError } from '../../../src/errors/index.js';
import { HOST_CALL_TIMEOUT_MS, HostRpc } from '../../../src/page/host-rpc.js';
import { FakeClock } from '../support/fake-clock.js';
import { track } from '../support/track.js';

/** A host whose answers the test gives by hand. */
class ManualHost {
  readonly name: string;
  readonly received: string[] = [];
  readonly #answers = new Map<string, { resolve(value: string): void; reject(error: unknown): void }>();

  constructor(name: string) {
    this.name = name;
  }

  echo(what: string): Promise<string> {
    this.received.push(what);
    return new Promise((resolve, reject) => this.#answers.set(what, { resolve, reject }));
  }

  answer(what: string): void {
    this.#answers.get(what)?.resolve(`${this.name}:${what}`);
  }

  refuse(what: string, error: unknown): void {
    this.#answers.get(what)?.reject(error);
  }
}

function setup() {
  const clock = new FakeClock();
  const timeouts: HostUnavailableError[] = [];
  const rpc = new HostRpc<ManualHost>(clock, (error) => timeouts.push(error));
  return { clock, rpc, timeouts };
}

describe('HostRpc', () => {
  it('sends a call to the open host at once and settles with its answer', async () => {
    const { clock, rpc } = setup();
    const host = new ManualHost('a');
    rpc.open(host);
    const call = track(rpc.call((api) => api.echo('x')));
    expect(host.received).toEqual(['x']);
    host.answer('x');
    await clock.flush();
    expect(call).toEqual({ state: 'resolved', value: 'a:x' });
    expect(rpc.pending).toBe(0);
  });

  it('rejects a call the host never answers with HostUnavailableError after HOST_CALL_TIMEOUT_MS, and reports the host unavailable once', async () => {
    const { clock, rpc, timeouts } = setup();
    rpc.open(new ManualHost('silent'));
    const calls = ['a', 'b', 'c'].map((what) => track(rpc.call((api) => api.echo(what))));
    await clock.advance(HOST_CALL_TIMEOUT_MS - 1);
    expect(calls.map((call) => call.state)).toEqual(['pending', 'pending', 'pending']);
    expect(timeouts).toHaveLength(0);
    await clock.advance(1);
    for (const call of calls) {
      expect(call.state).toBe('rejected');
      expect(call.error).toBeInstanceOf(HostUnavailableError);
      expect((call.error as HostUnavailableError).code).toBe('HOST_UNAVAILABLE');
    }
    expect(timeouts).toHaveLength(1);
    expect(timeouts[0]).toBeInstanceOf(HostUnavailableError);
    expect(rpc.pending).toBe(0);
  });

  it('keeps one timer for all pending calls, set for the oldest deadline', async () => {
    const { clock, rpc } = setup();
    const host = new ManualHost('a');
    rpc.open(host);
    const first = track(rpc.call((api) => api.echo('first')));
    await clock.advance(5_000);
    const later = Array.from({ length: 100 }, (_, i) => track(rpc.call((api) => api.echo(`later-${i}`))));
    expect(clock.pending).toBe(1);
    expect(clock.nextAt).toBe(clock.now() - 5_000 + HOST_CALL_TIMEOUT_MS);
    await clock.advance(HOST_CALL_TIMEOUT_MS - 5_000);
    expect(first.state).toBe('rejected');
    expect(later.every((call) => call.state === 'pending')).toBe(true);
    expect(clock.pending).toBe(1); // set again, for the next oldest
    await clock.advance(5_000);
    expect(later.every((call) => call.state === 'rejected')).toBe(true);
    expect(clock.pending).toBe(0);
  });

  it('holds calls made while re-attaching, then sends calls in flight to the new host first, all in the order they were made', async () => {
    const { clock, rpc } = setup();
    const old = new ManualHost('old');
    rpc.open(old);
    const inFlight = [track(rpc.call((api) => api.echo('1'))), track(rpc.call((api) => api.echo('2')))];
    rpc.hold(); // the host went away; a new one is being attached
    const held = [track(rpc.call((api) => api.echo('3'))), track(rpc.call((api) => api.echo('4')))];
    await clock.flush();
    expect(old.received).toEqual(['1', '2']);
    const next = new ManualHost('new');
    rpc.open(next);
    expect(next.received).toEqual(['1', '2', '3', '4']);
    old.answer('1'); // a late answer of the host that went away is ignored
    for (const what of ['1', '2', '3', '4']) next.answer(what);
    await clock.flush();
    expect([...inFlight, ...held].map((call) => call.value)).toEqual(['new:1', 'new:2', 'new:3', 'new:4']);
  });

  it('keeps the deadline of a held call from the moment it was made', async () => {
    const { clock, rpc, timeouts } = setup();
    const held = track(rpc.call((api) => api.echo('x'))); // never opened: attach hangs
    await clock.advance(HOST_CALL_TIMEOUT_MS);
    expect(held.error).toBeInstanceOf(HostUnavailableError);
    expect(timeouts).toHaveLength(1);
  });

  it('passes on what the host threw', async () => {
    const { clock, rpc } = setup();
    const host = new ManualHost('a');
    rpc.open(host);
    const call = track(rpc.call((api) => api.echo('x')));
    const refused = new SessionError('FORBIDDEN', 'no');
    host.refuse('x', refused);
    await clock.flush();
    expect(call.error).toBe(refused);
  });

  it('after fail(), rejects pending and later calls with the error until a host opens', async () => {
    const { clock, rpc } = setup();
    const pending = track(rpc.call((api) => api.echo('x')));
    const error = new HostUnavailableError('no host here');
    rpc.fail(error);
    const later = track(rpc.call((api) => api.echo('y')));
    await clock.flush();
    expect(pending.error).toBe(error);
    expect(later.error).toBe(error);
    const host = new ManualHost('a');
    rpc.open(host);
    const recovered = track(rpc.call((api) => api.echo('z')));
    host.answer('z');
    await clock.flush();
    expect(recovered.value).toBe('a:z');
  });

  it('after close(), refuses new calls, lets earlier ones settle with the answer, and resolves once none is pending', async () => {
    const { clock, rpc } = setup();
    const host = new ManualHost('a');
    const earlier = track(rpc.call((api) => api.echo('before'))); // still held: attaching
    const refusal = new SessionError('CLIENT_CLOSED', 'closed');
    const drained = track(rpc.close(refusal));
    const after = track(rpc.call((api) => api.echo('after')));
    await clock.flush();
    expect(after.error).toBe(refusal);
    expect(drained.state).toBe('pending');
    rpc.open(host);
    host.answer('before');
    await clock.flush();
    expect(earlier.value).toBe('a:before');
    expect(drained.state).toBe('resolved');
    expect(host.received).toEqual(['before']);
  });

  it('ready() waits for a host and resolves at once when one is open', async () => {
    const { clock, rpc } = setup();
    const ready = track(rpc.ready());
    await clock.flush();
    expect(ready.state).toBe('pending');
    rpc.open(new ManualHost('a'));
    await clock.flush();
    expect(ready.state).toBe('resolved');
  });
});
