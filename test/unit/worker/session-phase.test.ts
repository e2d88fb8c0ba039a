import { describe, expect, it } from 'vitest';
import { IDLE, nextPhase, statusOf, type SessionEvent, type SessionPhase } from '../../../src/worker/session-phase.js';

const run = (events: SessionEvent[], from: SessionPhase = IDLE) => events.reduce(nextPhase, from);

describe('session phase transitions', () => {
  it('runs the socket exactly when live: start with autoConnect, disconnect, connect', () => {
    expect(run([{ type: 'start', connect: true }])).toEqual({ name: 'live' });
    expect(run([{ type: 'start', connect: false }])).toEqual({ name: 'paused' });
    expect(run([{ type: 'start', connect: true }, { type: 'disconnect' }, { type: 'connect' }])).toEqual({
      name: 'live',
    });
  });

  it('remembers what the app asked for while a session error holds it, and resumes it on a new token', () => {
    const failed = run([
      { type: 'start', connect: true },
      { type: 'fail', error: 'TOKEN_EXPIRED' },
    ]);
    expect(failed).toEqual({ name: 'failed', error: 'TOKEN_EXPIRED', resume: 'live' });
    expect(nextPhase(failed, { type: 'fail', error: 'UNAUTHORIZED' }), 'the first error wins').toBe(failed);
    expect(run([{ type: 'disconnect' }, { type: 'token' }], failed)).toEqual({ name: 'paused' });
    expect(nextPhase(failed, { type: 'token' })).toEqual({ name: 'live' });
  });

  it('waits for a token offline, then goes where the app wanted', () => {
    const waiting = run([{ type: 'start', connect: true }, { type: 'token-unreachable' }]);
    expect(waiting).toEqual({ name: 'awaiting-token', resume: 'live' });
    expect(nextPhase(waiting, { type: 'token' })).toEqual({ name: 'live' });
  });

  it('suspends a live session when the last tab is gone and wakes it when one attaches', () => {
    const suspended = run([{ type: 'start', connect: true }, { type: 'tabs-gone' }]);
    expect(suspended).toEqual({ name: 'suspended' });
    expect(nextPhase(suspended, { type: 'tab-attached' })).toEqual({ name: 'live' });
    expect(run([{ type: 'start', connect: false }, { type: 'tabs-gone' }])).toEqual({ name: 'paused' });
  });

  it('ignores session events without a session; a refused start reports CLOSED until one starts', () => {
    for (const event of [{ type: 'connect' }, { type: 'token' }, { type: 'tabs-gone' }] as SessionEvent[]) {
      expect(nextPhase(IDLE, event)).toBe(IDLE);
    }
    const refused = nextPhase(IDLE, { type: 'refuse', error: 'UNAUTHORIZED' });
    expect(statusOf(refused, 'UNINITIALIZED')).toBe('CLOSED');
    expect(nextPhase(refused, { type: 'end' }), 'endSession without a session changes nothing').toBe(refused);
    expect(nextPhase(refused, { type: 'start', connect: true })).toEqual({ name: 'live' });
  });

  it('maps phases to the status tabs see', () => {
    expect(statusOf(IDLE, 'OPEN')).toBe('UNINITIALIZED');
    expect(statusOf({ name: 'live' }, 'CONNECTING')).toBe('CONNECTING');
    expect(statusOf({ name: 'paused' }, 'UNINITIALIZED'), 'started without autoConnect').toBe('UNINITIALIZED');
    expect(statusOf({ name: 'paused' }, 'CLOSED'), 'after disconnect()').toBe('CLOSED');
    expect(statusOf({ name: 'failed', error: 'ROLES_MISMATCH', resume: 'live' }, 'OPEN')).toBe('CLOSED');
  });
});
