import {
  type Cell,
  type Fact,
  type PanelModel,
  SECTION_IDS,
  type Section,
  type SectionId,
  type Table,
} from './panel-model.js';
import { DEVTOOLS_STYLES } from './styles.js';

/**
 * The panel's DOM inside a shadow root: one outer `<details>` (the whole panel, collapsible) and a
 * `<details>` per section, built once so that what the user opened or closed stays so. An update
 * re-renders only the sections whose content changed. Text goes in with `textContent`, never as
 * HTML: topic names and log lines come from other users.
 */

/** Sections a new panel shows collapsed (the others start open). */
const COLLAPSED_SECTIONS: ReadonlySet<SectionId> = new Set(['log']);

type Attributes = Record<string, string>;

/** `document.createElement(tag)` with attributes and children (strings become text). */
function h(tag: string, attributes: Attributes = {}, children: (Node | string)[] = []): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Tone as an attribute (styles colour it; the text itself always says the state too). */
function toned(element: HTMLElement, item: Cell): HTMLElement {
  if (item.tone !== 'plain') element.dataset.tone = item.tone;
  if (item.title) element.title = item.title;
  return element;
}

function renderFacts(facts: Fact[]): HTMLElement {
  return h(
    'dl',
    {},
    // The colon and space are text, so that copying the panel (or reading its textContent) keeps them.
    facts.map((item) => h('div', {}, [h('dt', {}, [`${item.label}:`]), ' ', toned(h('dd', {}, [item.text]), item)])),
  );
}

function renderTable(table: Table): HTMLElement {
  if (table.rows.length === 0) return h('p', { class: 'empty' }, [`${table.caption}: ${table.empty}`]);
  return h('table', {}, [
    h('caption', {}, [table.caption]),
    h('thead', {}, [
      h(
        'tr',
        {},
        table.columns.map((column) => h('th', { scope: 'col' }, [column])),
      ),
    ]),
    h(
      'tbody',
      {},
      table.rows.map((row) =>
        h(
          'tr',
          {},
          row.map((item) => toned(h('td', {}, [item.text]), item)),
        ),
      ),
    ),
  ]);
}

function renderBody(section: Section): Node[] {
  const body: Node[] = [];
  if (section.facts.length > 0) body.push(renderFacts(section.facts));
  for (const table of section.tables) body.push(renderTable(table));
  if (section.id === 'log') {
    body.push(
      section.lines.length === 0
        ? h('p', { class: 'empty' }, ['no log line yet'])
        : h(
            'ol',
            { class: 'log', reversed: '' },
            section.lines.map((line) => h('li', {}, [line])),
          ),
    );
  }
  return body;
}

interface SectionParts {
  details: HTMLDetailsElement;
  summary: HTMLElement;
  body: HTMLElement;
  /** What the body shows now (JSON of the section), to skip unchanged re-renders. */
  shown: string;
}

/**
 * The rendered panel. Internal to `shared-session/devtools`.
 *
 * @example
 * ```ts
 * const view = new PanelView(element.attachShadow({ mode: 'open' }), (open) => (inspector.open = open));
 * view.update(buildPanelModel(snapshot, Date.now()));
 * ```
 */
export class PanelView {
  readonly #panel: HTMLDetailsElement;
  readonly #badge: HTMLElement;
  readonly #summaryText: HTMLElement;
  readonly #sections = new Map<SectionId, SectionParts>();

  /**
   * @param root - where to render (the element's shadow root)
   * @param onToggle - called when the user expands or collapses the whole panel
   */
  constructor(root: ShadowRoot, onToggle: (open: boolean) => void) {
    const style = h('style', {}, [DEVTOOLS_STYLES]);
    this.#badge = h('span', { class: 'badge', 'aria-live': 'polite' });
    this.#summaryText = h('span', { class: 'summary-text' });
    const content = h('div', { class: 'sections' });
    for (const id of SECTION_IDS) {
      const summary = h('summary');
      const body = h('div', { class: 'body' });
      const details = h('details', { 'data-section': id }, [summary, body]) as HTMLDetailsElement;
      details.open = !COLLAPSED_SECTIONS.has(id);
      this.#sections.set(id, { details, summary, body, shown: '' });
      content.append(details);
    }
    this.#panel = h('details', { class: 'panel', part: 'panel' }, [
      h('summary', { part: 'summary' }, [h('strong', {}, ['shared-session devtools']), this.#badge, this.#summaryText]),
      content,
    ]) as HTMLDetailsElement;
    this.#panel.addEventListener('toggle', () => onToggle(this.#panel.open));
    root.replaceChildren(style, h('section', { 'aria-label': 'shared-session devtools' }, [this.#panel]));
  }

  /** Whether the whole panel is expanded. */
  get open(): boolean {
    return this.#panel.open;
  }

  set open(open: boolean) {
    this.#panel.open = open;
  }

  /** Shows `model`, re-rendering only what changed. */
  update(model: PanelModel): void {
    this.#badge.textContent = model.status;
    this.#badge.dataset.status = model.status;
    this.#summaryText.textContent = model.summary;
    for (const section of model.sections) {
      const parts = this.#sections.get(section.id);
      if (!parts) continue;
      parts.summary.textContent = section.title;
      const shown = JSON.stringify(section);
      if (shown === parts.shown) continue;
      parts.shown = shown;
      parts.body.replaceChildren(...renderBody(section));
    }
  }
}
