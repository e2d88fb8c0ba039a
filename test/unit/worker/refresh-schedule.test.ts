import { describe, expect, it } from 'vitest';
import {
  MAX_REFRESH_RETRY_MS,
  nextRefreshAt,
  REFRESH_LEAD_MS,
  refreshRetryDelay,
} from '../../../src/worker/refresh-schedule.js';

const base = { clockOffsetMs: 0, interval: undefined, now: 10_000, since: 10_000 };

describe('nextRefreshAt', () => {
  it('refreshes one second before exp', () => {
    expect(nextRefreshAt({ ...base, expiresAt: 60_000 })).toBe(60_000 - REFRESH_LEAD_MS);
  });

  it('corrects exp by the server clock offset', () => {
    // The server's clock runs 5 s ahead: its exp happens 5 s earlier on ours.
    expect(nextRefreshAt({ ...base, expiresAt: 60_000, clockOffsetMs: 5_000 })).toBe(55_000 - REFRESH_LEAD_MS);
  });

  it('never refreshes a token without exp unless an interval is set', () => {
    expect(nextRefreshAt({ ...base, expiresAt: null })).toBeUndefined();
    expect(nextRefreshAt({ ...base, expiresAt: null, interval: 2_000 })).toBe(12_000);
  });

  it('prefers the interval over exp', () => {
    expect(nextRefreshAt({ ...base, expiresAt: 60_000, interval: 3_000, since: 9_000 })).toBe(12_000);
  });

  it('refreshes now when exp is closer than the lead', () => {
    expect(nextRefreshAt({ ...base, expiresAt: 10_500 })).toBe(10_000);
  });
});

describe('refreshRetryDelay', () => {
  it('backs off exponentially up to a cap', () => {
    const delays = [1, 2, 3, 4, 10, 30].map(refreshRetryDelay);
    expect(delays.slice(0, 4)).toEqual([500, 1000, 2000, 4000]);
    expect(delays.at(-1)).toBe(MAX_REFRESH_RETRY_MS);
  });
});
