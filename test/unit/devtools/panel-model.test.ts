import { describe, expect, it } from 'vitest';
import {
  describeCloseCode,
  formatClockTime,
  formatDuration,
  formatRelative,
  shortId,
} from '../../../src/devtools/format.js';
import type { DevtoolsSnapshot } from '../../../src/devtools/inspector.js';
import { buildPanelModel, type PanelModel, type SectionId } from '../../../src/devtools/panel-model.js';
import type { HostInspection } from '../../../src/protocol/host-api.js';
import { sampleInspection } from './fake-devtools-client.js';

const NOW = Date.UTC(2026, 0, 1, 12, 0, 0);

function snapshot(inspection: HostInspection | undefined, more: Partial<DevtoolsSnapshot> = {}): DevtoolsSnapshot {
  return {
    status: 'OPEN',
    hostKind: 'shared-worker',
    inspection,
    inspectedAt: inspection ? NOW : undefined,
    inspectError: undefined,
    lastSessionError: undefined,
    ...more,
  };
}

const sectionOf = (model: PanelModel, id: SectionId) => {
  const found = model.sections.find((s) => s.id === id);
  if (!found) throw new Error(`no section ${id}`);
  return found;
};
const factsOf = (model: PanelModel, id: SectionId) =>
  Object.fromEntries(sectionOf(model, id).facts.map((fact) => [fact.label, fact.text]));
const rowsOf = (model: PanelModel, id: SectionId) =>
  (sectionOf(model, id).tables[0]?.rows ?? []).map((row) => row.map((cell) => cell.text));

describe('the devtools formats', () => {
  it('names close codes: the server codes by their name, the standard ones by their meaning', () => {
    expect(describeCloseCode(4002)).toBe('TOKEN_EXPIRED');
    expect(describeCloseCode(4503)).toBe('SERVER_SHUTDOWN');
    expect(describeCloseCode(1006)).toBe('connection lost (no close frame)');
    expect(describeCloseCode(1013)).toBe('try again later');
    expect(describeCloseCode(4321)).toBe('application code');
    expect(describeCloseCode(3000)).toBe('unknown code');
  });

  it('formats durations, relative times, clock times and short ids', () => {
    expect([0, 850, 1000, 59_999, 245_000, 7_380_000].map(formatDuration)).toEqual([
      '0 ms',
      '850 ms',
      '1 s',
      '59 s',
      '4 min 05 s',
      '2 h 03 min',
    ]);
    expect(formatRelative(NOW + 12_000, NOW)).toBe('in 12 s');
    expect(formatRelative(NOW - 3_000, NOW)).toBe('3 s ago');
    expect(formatRelative(NOW + 200, NOW)).toBe('now');
    expect(formatClockTime(NOW)).toMatch(/^\d\d:00:00$/);
    expect(formatClockTime(NOW + 7, true)).toMatch(/^\d\d:00:00\.007$/);
    expect(shortId('aaaaaaaa-0000-0000-0000-000000000001')).toBe('aaaaaaaa');
  });
});

describe('the devtools panel model', () => {
  it('sums the host up in one line for the collapsed panel', () => {
    expect(buildPanelModel(snapshot(sampleInspection()), NOW).summary).toBe('shared-worker · 2 tabs · 1 in outbox');
    expect(buildPanelModel(snapshot(undefined, { hostKind: undefined }), NOW).summary).toBe('no host');
    expect(
      buildPanelModel(snapshot(sampleInspection({ tabs: 1, outbox: 0 }), { inspectError: 'TIMEOUT: x' }), NOW).summary,
    ).toBe('shared-worker · 1 tab · host not answering');
  });

  it('counts the token down to expiresAt on the server clock, corrected by the clock offset', () => {
    // The server's clock runs 4 s ahead: 30 s after NOW on the server is 26 s from now here.
    const model = buildPanelModel(snapshot(sampleInspection({ clockOffsetMs: 4000 })), NOW);
    expect(factsOf(model, 'token')).toEqual({ 'Token expires': 'in 26 s', 'Next refresh': 'in 29 s', Refreshes: '1' });
    const expired = buildPanelModel(snapshot(sampleInspection()), NOW + 33_000);
    expect(factsOf(expired, 'token')['Token expires']).toBe('expired 3 s ago');
    const noExp = sampleInspection();
    noExp.session = { ...noExp.session!, expiresAt: null };
    expect(factsOf(buildPanelModel(snapshot(noExp), NOW), 'token')['Token expires']).toBe('never (no exp)');
  });

  it('lists the refresh history newest first, with the tab that answered and whether it is gone', () => {
    const inspection = sampleInspection();
    inspection.refreshHistory.push({
      at: NOW,
      outcome: 'refreshed',
      tabId: 'aaaaaaaa-0000-0000-0000-000000000001',
      durationMs: 1500,
      failovers: 0,
    });
    expect(rowsOf(buildPanelModel(snapshot(inspection), NOW), 'token')).toEqual([
      [formatClockTime(NOW), 'refreshed', 'aaaaaaaa', '1 s', '0'],
      [formatClockTime(NOW - 500), 'refreshed', 'cccccccc (gone)', '42 ms', '1'],
    ]);
  });

  it('lists the last closes newest first with their meaning and reason', () => {
    expect(rowsOf(buildPanelModel(snapshot(sampleInspection()), NOW), 'socket')).toEqual([
      [formatClockTime(NOW - 1000), '4503', 'SERVER_SHUTDOWN', 'server shutting down'],
      [formatClockTime(NOW - 2000), '1006', 'connection lost (no close frame)', '—'],
    ]);
  });

  it('shows tabs, subscriptions with cursors, the outbox and the log newest first', () => {
    const model = buildPanelModel(snapshot(sampleInspection()), NOW);
    expect(sectionOf(model, 'tabs').title).toBe('Tabs (2)');
    expect(rowsOf(model, 'tabs')).toEqual([
      ['aaaaaaaa', 'visible', formatClockTime(NOW), '0.1.0+abc', '1'],
      ['bbbbbbbb', 'hidden', formatClockTime(NOW), '0.0.9+old (other)', '0'],
    ]);
    expect(rowsOf(model, 'topics')).toEqual([['feed:public', '7', '7', '2', 'live']]);
    expect(rowsOf(model, 'outbox')).toEqual([['feed:public', 'dddddddd', formatClockTime(NOW), 'waiting']]);
    expect(sectionOf(model, 'log').lines).toEqual([
      `${formatClockTime(NOW - 1000, true)} dialing ws://127.0.0.1:1/`,
      `${formatClockTime(NOW - 2000, true)} closed 1006`,
    ]);
  });

  it('shows the session, its phase and error, and the last session error this tab heard', () => {
    const inspection = sampleInspection({ phase: 'failed', error: 'TOKEN_EXPIRED', session: undefined });
    const model = buildPanelModel(snapshot(inspection, { lastSessionError: { type: 'TOKEN_EXPIRED', at: NOW } }), NOW);
    expect(factsOf(model, 'host')).toMatchObject({
      Host: 'shared-worker',
      Phase: 'failed (TOKEN_EXPIRED)',
      User: 'no session',
      'Last session error': `TOKEN_EXPIRED at ${formatClockTime(NOW)}`,
    });
    expect(sectionOf(model, 'host').facts.find((fact) => fact.label === 'Phase')?.tone).toBe('bad');
  });

  it('says it is waiting for the host before the first inspection, and when the host did not answer', () => {
    const waiting = buildPanelModel(snapshot(undefined), NOW);
    expect(sectionOf(waiting, 'tabs').tables[0]?.empty).toBe('waiting for the host…');
    const failed = buildPanelModel(snapshot(undefined, { inspectError: 'HOST_UNAVAILABLE: gone' }), NOW);
    expect(sectionOf(failed, 'tabs').tables[0]?.empty).toBe('the host did not answer');
    expect(factsOf(failed, 'host')['Inspected']).toBe('failed: HOST_UNAVAILABLE: gone');
  });
});
