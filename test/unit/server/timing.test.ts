import { afterEach, describe, expect, it, vi } from 'vitest';
import { ExpiryTimer } from '../../../src/server/session/expiry-timer.js';
import { closeReason } from '../../../src/server/transport/socket.js';
import { MAX_CLOSE_REASON_BYTES, MAX_TIMER_DELAY_MS, RateLimiter } from '../../../src/server/index.js';

describe('RateLimiter', () => {
  it('allows a burst, then refuses until tokens refill at the configured rate', () => {
    const limiter = new RateLimiter({ messagesPerSecond: 10, burst: 3 });
    expect([limiter.take(0), limiter.take(0), limiter.take(0)]).toEqual(['ok', 'ok', 'ok']);
    expect(limiter.take(0)).toBe('limited');
    expect(limiter.take(100)).toBe('ok');
    expect(limiter.take(100)).toBe('limited');
  });

  it('calls a sender abusive once its refused frames exceed the burst', () => {
    const limiter = new RateLimiter({ messagesPerSecond: 1, burst: 2 });
    const verdicts = Array.from({ length: 6 }, () => limiter.take(0));
    expect(verdicts).toEqual(['ok', 'ok', 'limited', 'limited', 'abuse', 'abuse']);
  });

  it('forgives refused frames at the same rate as it refills', () => {
    const limiter = new RateLimiter({ messagesPerSecond: 1, burst: 2 });
    for (let i = 0; i < 4; i++) limiter.take(0);
    expect(limiter.take(10_000)).toBe('ok');
    expect(limiter.take(10_000)).toBe('ok');
    expect(limiter.take(10_000)).toBe('limited');
  });

  it('refuses a non-positive rate or a burst below 1', () => {
    expect(() => new RateLimiter({ messagesPerSecond: 0, burst: 1 })).toThrow(TypeError);
    expect(() => new RateLimiter({ messagesPerSecond: 1, burst: 0 })).toThrow(TypeError);
  });
});

describe('ExpiryTimer', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires at an expiry beyond the setTimeout limit instead of at once', () => {
    vi.useFakeTimers({ now: 0 });
    const onExpire = vi.fn();
    const timer = new ExpiryTimer(onExpire);
    const at = 40 * 24 * 60 * 60 * 1000;
    timer.arm(at);
    vi.advanceTimersByTime(MAX_TIMER_DELAY_MS);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(at - MAX_TIMER_DELAY_MS - 1);
    expect(onExpire).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(onExpire).toHaveBeenCalledOnce();
  });

  it('replaces the earlier arming when re-armed, and never fires when disarmed with null', () => {
    vi.useFakeTimers({ now: 0 });
    const onExpire = vi.fn();
    const timer = new ExpiryTimer(onExpire);
    timer.arm(1000);
    timer.arm(5000);
    vi.advanceTimersByTime(4999);
    expect(onExpire).not.toHaveBeenCalled();
    timer.arm(null);
    vi.advanceTimersByTime(10_000);
    expect(onExpire).not.toHaveBeenCalled();
  });

  it('fires at once for an expiry in the past', () => {
    vi.useFakeTimers({ now: 10_000 });
    const onExpire = vi.fn();
    new ExpiryTimer(onExpire).arm(5000);
    vi.advanceTimersByTime(0);
    expect(onExpire).toHaveBeenCalledOnce();
  });
});

describe('closeReason', () => {
  it('keeps a short reason as is', () => {
    expect(closeReason('token expired')).toBe('token expired');
  });

  it('cuts a long reason to 123 UTF-8 bytes without splitting a character', () => {
    const reason = closeReason('é'.repeat(200));
    expect(Buffer.byteLength(reason)).toBeLessThanOrEqual(MAX_CLOSE_REASON_BYTES);
    expect(reason.endsWith('...')).toBe(true);
    expect(reason).not.toContain('\uFFFD');
  });
});
