// Vitest with its defaults (node environment): every entry imports, the page client refuses to start.
import { expect, test } from 'vitest';
import { checkEntries } from './check-entries.js';

test('every shared-session entry imports in Vitest', async () => {
  const { exported, construct } = await checkEntries();
  for (const [entry, count] of Object.entries(exported)) expect(count, entry).toBeGreaterThan(0);
  expect(construct).toBe('HostUnavailableError HOST_UNAVAILABLE');
});
