import type { ConnectionStatus, HostInspection, InspectedTab } from '../protocol/host-api.js';
import { describeCloseCode, formatClockTime, formatDuration, formatRelative, shortId } from './format.js';
import type { DevtoolsSnapshot } from './inspector.js';

/**
 * What the devtools panel shows, computed from a {@link DevtoolsSnapshot} and the time: plain data
 * (sections of facts, tables and lines) that the view renders and unit tests read.
 */

/** How a value is emphasised (colour plus a text cue; never colour alone). */
export type Tone = 'plain' | 'good' | 'warn' | 'bad';

/** One table cell: its text, the full value for a tooltip (`''`: none), and its tone. */
export interface Cell {
  text: string;
  title: string;
  tone: Tone;
}

/** A label and its value. */
export interface Fact extends Cell {
  label: string;
}

/** A table of a section. */
export interface Table {
  caption: string;
  columns: string[];
  rows: Cell[][];
  /** Shown instead of the rows when there are none. */
  empty: string;
}

/** The panel's sections, in display order. */
export const SECTION_IDS = ['host', 'tabs', 'socket', 'token', 'topics', 'outbox', 'log'] as const;
/** One of {@link SECTION_IDS}. */
export type SectionId = (typeof SECTION_IDS)[number];

/** One collapsible section. */
export interface Section {
  id: SectionId;
  /** The section's summary line, e.g. `Tabs (2)`. */
  title: string;
  facts: Fact[];
  tables: Table[];
  /** Log lines, newest first. */
  lines: string[];
}

/** Everything the panel shows. */
export interface PanelModel {
  status: ConnectionStatus;
  /** One line for the collapsed panel, beside the status: `shared-worker · 2 tabs`. */
  summary: string;
  sections: Section[];
}

const STATUS_TONES: Record<ConnectionStatus, Tone> = {
  UNINITIALIZED: 'plain',
  CONNECTING: 'warn',
  OPEN: 'good',
  CLOSING: 'warn',
  CLOSED: 'bad',
};

const cell = (text: string, title = '', tone: Tone = 'plain'): Cell => ({ text, title, tone });
const fact = (label: string, text: string, title = '', tone: Tone = 'plain'): Fact => ({ label, text, title, tone });
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const section = (id: SectionId, title: string, parts: Partial<Omit<Section, 'id' | 'title'>> = {}): Section => ({
  id,
  title,
  facts: parts.facts ?? [],
  tables: parts.tables ?? [],
  lines: parts.lines ?? [],
});

/**
 * Builds the panel's model.
 *
 * @param snapshot - what the panel knows (the client's events and the last `inspect()`)
 * @param now - local epoch ms (countdowns are computed against it)
 * @example
 * ```ts
 * const model = buildPanelModel(snapshot, Date.now());
 * model.sections.find((s) => s.id === 'socket')?.tables[0]?.rows; // the last closes
 * ```
 */
export function buildPanelModel(snapshot: DevtoolsSnapshot, now: number): PanelModel {
  const inspection = snapshot.inspection;
  const waiting = snapshot.inspectError === undefined ? 'waiting for the host…' : 'the host did not answer';
  const summary = [inspection?.kind ?? snapshot.hostKind ?? 'no host'];
  if (inspection) summary.push(plural(inspection.tabs, 'tab'));
  if (inspection && inspection.outbox > 0) summary.push(`${inspection.outbox} in outbox`);
  if (snapshot.inspectError !== undefined) summary.push('host not answering');
  return {
    status: snapshot.status,
    summary: summary.join(' · '),
    sections: [
      hostSection(snapshot, inspection),
      tabsSection(inspection, waiting),
      socketSection(snapshot.status, inspection, waiting),
      tokenSection(inspection, now, waiting),
      topicsSection(inspection, waiting),
      outboxSection(inspection, waiting),
      section('log', `Log (${inspection?.log.length ?? 0})`, {
        lines: (inspection?.log ?? []).map(({ at, line }) => `${formatClockTime(at, true)} ${line}`).reverse(),
      }),
    ],
  };
}

function hostSection(snapshot: DevtoolsSnapshot, inspection: HostInspection | undefined): Section {
  const facts = [
    fact('Host', inspection?.kind ?? snapshot.hostKind ?? '–'),
    fact('Build', inspection?.buildId ?? '–', inspection?.buildId ?? ''),
    fact('Status', snapshot.status, '', STATUS_TONES[snapshot.status]),
  ];
  if (inspection) {
    const failed = inspection.error !== undefined;
    facts.push(
      fact(
        'Phase',
        failed ? `${inspection.phase} (${inspection.error})` : inspection.phase,
        '',
        failed ? 'bad' : 'plain',
      ),
    );
    const session = inspection.session;
    facts.push(
      fact('User', session ? `${session.userId} [${session.roles.join(', ')}]` : 'no session'),
      fact('Session id', session ? shortId(session.id) : '–', session?.id ?? ''),
    );
  }
  const heard = snapshot.lastSessionError;
  facts.push(
    fact(
      'Last session error',
      heard ? `${heard.type} at ${formatClockTime(heard.at)}` : 'none',
      '',
      heard ? 'bad' : 'plain',
    ),
    snapshot.inspectError !== undefined
      ? fact('Inspected', `failed: ${snapshot.inspectError}`, '', 'bad')
      : fact('Inspected', snapshot.inspectedAt === undefined ? 'not yet' : formatClockTime(snapshot.inspectedAt, true)),
  );
  return section('host', 'Host', { facts });
}

function tabsSection(inspection: HostInspection | undefined, waiting: string): Section {
  const rows = (inspection?.tabList ?? []).map((tab) => [
    cell(shortId(tab.tabId), tab.tabId),
    cell(tab.visible ? 'visible' : 'hidden', '', tab.visible ? 'good' : 'plain'),
    cell(formatClockTime(tab.attachedAt)),
    pageBuild(tab, inspection?.buildId ?? ''),
    cell(String(tab.refreshHandlers)),
  ]);
  return section('tabs', `Tabs (${inspection?.tabs ?? '–'})`, {
    tables: [
      {
        caption: 'Tabs attached to the host',
        columns: ['Tab', 'Visibility', 'Attached', 'Page build', 'Refresh handlers'],
        rows,
        empty: inspection ? 'no tab attached' : waiting,
      },
    ],
  });
}

/** A tab's page build, flagged when the host's build does not name it (the tab runs other code). */
function pageBuild(tab: InspectedTab, hostBuild: string): Cell {
  const text = tab.buildId.replace(/^shared-session@/, '');
  return hostBuild.includes(tab.buildId)
    ? cell(text, tab.buildId)
    : cell(`${text} (other)`, `host: ${hostBuild}`, 'warn');
}

function socketSection(status: ConnectionStatus, inspection: HostInspection | undefined, waiting: string): Section {
  const facts = [fact('Status', status, '', STATUS_TONES[status])];
  if (inspection) {
    const offset = Math.round(inspection.clockOffsetMs);
    facts.push(
      fact('Sockets opened', String(inspection.socketsOpened)),
      fact('Changes received', String(inspection.changesReceived)),
      fact('Server clock offset', `${offset >= 0 ? '+' : ''}${offset} ms`),
    );
  }
  const closes = [...(inspection?.closes ?? [])]
    .reverse()
    .map((close) => [
      cell(formatClockTime(close.at)),
      cell(String(close.code), '', close.code === 1000 ? 'plain' : 'warn'),
      cell(describeCloseCode(close.code)),
      cell(close.reason || '—', close.reason),
    ]);
  return section('socket', `Socket · ${status}`, {
    facts,
    tables: [
      {
        caption: 'Last closes, newest first',
        columns: ['Time', 'Code', 'Meaning', 'Reason'],
        rows: closes,
        empty: inspection ? 'no close yet' : waiting,
      },
    ],
  });
}

function tokenSection(inspection: HostInspection | undefined, now: number, waiting: string): Section {
  const facts: Fact[] = [];
  const session = inspection?.session;
  if (inspection && session) {
    if (session.expiresAt === null) {
      facts.push(fact('Token expires', 'never (no exp)'));
    } else {
      // `expiresAt` is on the server's clock; the host learned the offset at connect.
      const left = session.expiresAt - (now + inspection.clockOffsetMs);
      const localExpiry = session.expiresAt - inspection.clockOffsetMs;
      facts.push(
        fact(
          'Token expires',
          left > 0 ? `in ${formatDuration(left)}` : `expired ${formatDuration(left)} ago`,
          `at ${formatClockTime(localExpiry)} (local time)`,
          left > 0 ? (left < 5000 ? 'warn' : 'good') : 'bad',
        ),
      );
    }
  } else {
    facts.push(fact('Token expires', inspection ? 'no session' : '–'));
  }
  if (inspection) {
    const next = inspection.nextRefreshAt;
    facts.push(
      fact('Next refresh', next === undefined ? 'none scheduled' : formatRelative(next, now)),
      fact('Refreshes', String(inspection.refreshes)),
    );
  }
  const tabs = new Set((inspection?.tabList ?? []).map((tab: InspectedTab) => tab.tabId));
  const rows = [...(inspection?.refreshHistory ?? [])]
    .reverse()
    .map((round) => [
      cell(formatClockTime(round.at)),
      cell(round.outcome, '', round.outcome === 'refreshed' ? 'good' : round.outcome === 'failed' ? 'bad' : 'warn'),
      round.tabId === undefined
        ? cell('–')
        : cell(`${shortId(round.tabId)}${tabs.has(round.tabId) ? '' : ' (gone)'}`, round.tabId),
      cell(formatDuration(round.durationMs)),
      cell(String(round.failovers), '', round.failovers > 0 ? 'warn' : 'plain'),
    ]);
  return section('token', 'Token & refresh', {
    facts,
    tables: [
      {
        caption: 'Refresh history, newest first',
        columns: ['Time', 'Outcome', 'Answered by', 'Took', 'Failovers'],
        rows,
        empty: inspection ? 'no refresh yet' : waiting,
      },
    ],
  });
}

function topicsSection(inspection: HostInspection | undefined, waiting: string): Section {
  const topics = inspection?.topicList ?? [];
  return section('topics', `Subscriptions (${topics.length})`, {
    tables: [
      {
        caption: 'Topics the host holds, with their cursors',
        columns: ['Topic', 'Cursor', 'Cached', 'Tab subscriptions', 'Server'],
        rows: topics.map((topic) => [
          cell(topic.topic, topic.topic),
          cell(String(topic.cursor)),
          cell(String(topic.cached)),
          cell(String(topic.subscribers)),
          cell(topic.live ? 'live' : 'not subscribed', '', topic.live ? 'good' : 'warn'),
        ]),
        empty: inspection ? 'no subscription' : waiting,
      },
    ],
  });
}

function outboxSection(inspection: HostInspection | undefined, waiting: string): Section {
  const entries = inspection?.outboxEntries ?? [];
  return section('outbox', `Outbox (${entries.length})`, {
    tables: [
      {
        caption: 'Publishes waiting for the server',
        columns: ['Topic', 'Client id', 'Queued', 'State'],
        rows: entries.map((entry) => [
          cell(entry.topic, entry.topic),
          cell(shortId(entry.clientId), entry.clientId),
          cell(formatClockTime(entry.createdAt)),
          cell(entry.inFlight ? 'in flight' : 'waiting', '', entry.inFlight ? 'plain' : 'warn'),
        ]),
        empty: inspection ? 'empty' : waiting,
      },
    ],
  });
}
