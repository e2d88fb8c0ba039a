import { describe, expect, it } from 'vitest';
import { INITIAL_RECONNECT_DELAY_MS, MAX_RECONNECT_DELAY_MS, reconnectDelay } from '../../../src/worker/backoff.js';

describe('reconnectDelay', () => {
  it('doubles from the initial delay with half of it jittered', () => {
    expect(reconnectDelay(0, () => 0)).toBe(INITIAL_RECONNECT_DELAY_MS / 2);
    expect(reconnectDelay(0, () => 0.999999)).toBeCloseTo(INITIAL_RECONNECT_DELAY_MS, -1);
    expect(reconnectDelay(3, () => 0)).toBe((INITIAL_RECONNECT_DELAY_MS * 8) / 2);
  });

  it('never exceeds the maximum, even after many failures', () => {
    for (const attempt of [10, 50, 1000]) {
      expect(reconnectDelay(attempt, () => 0.999999)).toBeLessThanOrEqual(MAX_RECONNECT_DELAY_MS);
      expect(reconnectDelay(attempt, () => 0)).toBe(MAX_RECONNECT_DELAY_MS / 2);
    }
  });
});
