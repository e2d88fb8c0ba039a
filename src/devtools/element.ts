import { systemClock } from '../shared/clock.js';
import { type DevtoolsClient, DevtoolsInspector, type VisibilitySource } from './inspector.js';
import { buildPanelModel } from './panel-model.js';
import { PanelView } from './panel-view.js';

/** The element's tag name. */
export const DEVTOOLS_TAG = 'shared-session-devtools';

// In Node (SSR, Vitest) there is no HTMLElement: the class still exists, it is only never defined
// or constructed there (defineDevtools checks for `customElements`).
const ElementBase = (typeof HTMLElement === 'undefined' ? class {} : HTMLElement) as typeof HTMLElement;

/** `document.visibilityState`, watched. */
const documentVisibility: VisibilitySource = {
  get visible() {
    return document.visibilityState === 'visible';
  },
  onChange(callback) {
    document.addEventListener('visibilitychange', callback);
    return () => document.removeEventListener('visibilitychange', callback);
  },
};

/**
 * `<shared-session-devtools>`: a panel that shows what the tab's session host is doing — host kind
 * and build, attached tabs, socket state and the last closes with code and reason, token countdown
 * and refresh history (which tab answered, how long it took, failovers), subscriptions with their
 * cursors, the outbox, and the host's recent log lines. All of it comes from `client.inspect()`
 * (never a token), refreshed on the client's events and, while the panel is open and the page
 * visible, every second. Detached from the DOM it neither listens nor polls.
 *
 * Attributes: `open` (the panel is expanded; reflects the user's clicks). Style it from outside with
 * the `panel` and `summary` parts and the `--ssd-*` custom properties (see the README). Import from
 * `shared-session/devtools`.
 *
 * @example
 * ```ts
 * import { defineDevtools } from 'shared-session/devtools';
 * defineDevtools();
 * const panel = document.createElement('shared-session-devtools');
 * panel.client = client; // a SessionClient
 * document.body.append(panel);
 * ```
 */
export class SharedSessionDevtools extends ElementBase {
  /** @internal the attributes the element reacts to */
  static readonly observedAttributes = ['open'];
  readonly #view: PanelView;
  readonly #inspector: DevtoolsInspector;

  constructor() {
    super();
    this.#view = new PanelView(this.attachShadow({ mode: 'open' }), (open) => {
      if (open !== this.open) this.open = open; // the user clicked the summary
    });
    this.#inspector = new DevtoolsInspector({
      clock: systemClock,
      visibility: documentVisibility,
      onUpdate: () => this.#render(),
    });
    this.#render();
  }

  /**
   * The `SessionClient` shown. Setting another one disconnects the panel from the previous client;
   * `undefined` (or `null`) disconnects it.
   *
   * @throws TypeError when the value has no `inspect()` method
   */
  get client(): DevtoolsClient | undefined {
    return this.#inspector.client;
  }

  set client(client: DevtoolsClient | null | undefined) {
    if (client != null && typeof (client as Partial<DevtoolsClient>).inspect !== 'function') {
      throw new TypeError('"client" must be a SessionClient (an object with inspect())');
    }
    this.#inspector.client = client ?? undefined;
  }

  /** Whether the panel is expanded (the `open` attribute). Only an open panel polls. */
  get open(): boolean {
    return this.hasAttribute('open');
  }

  set open(open: boolean) {
    this.toggleAttribute('open', open);
  }

  /**
   * Asks the host for its state now instead of waiting for the next event or poll.
   *
   * @returns resolves once the panel shows an inspection made after the call
   */
  refresh(): Promise<void> {
    return this.#inspector.refresh();
  }

  /** @internal custom element lifecycle */
  connectedCallback(): void {
    // A `client` set on the element before it was upgraded is an own property hiding the setter.
    if (Object.hasOwn(this, 'client')) {
      const client = (this as { client?: DevtoolsClient }).client;
      delete (this as { client?: DevtoolsClient }).client;
      this.client = client;
    }
    this.#inspector.open = this.open;
    this.#inspector.running = true;
  }

  /** @internal custom element lifecycle */
  disconnectedCallback(): void {
    this.#inspector.running = false;
  }

  /** @internal custom element lifecycle */
  attributeChangedCallback(name: string): void {
    if (name !== 'open') return;
    this.#view.open = this.open;
    this.#inspector.open = this.open;
  }

  #render(): void {
    this.#view.update(buildPanelModel(this.#inspector.snapshot, systemClock.now()));
  }
}

/**
 * Defines `<shared-session-devtools>` (or `tagName`) where custom elements exist. Importing
 * `shared-session/devtools` in a browser already does it; call this where a bundler may drop an
 * import kept only for its side effect, or to use another tag name. Safe to call again.
 *
 * @param tagName - the tag to define (default {@link DEVTOOLS_TAG})
 * @param registry - where to define it (default `window.customElements`)
 * @returns the element class, or `undefined` where there are no custom elements (Node, SSR)
 * @example
 * ```ts
 * import { defineDevtools } from 'shared-session/devtools';
 * defineDevtools(); // <shared-session-devtools>
 * defineDevtools('my-session-panel'); // <my-session-panel>
 * ```
 */
export function defineDevtools(
  tagName: string = DEVTOOLS_TAG,
  registry: CustomElementRegistry | undefined = globalThis.customElements,
): typeof SharedSessionDevtools | undefined {
  if (registry === undefined) return undefined;
  const existing = registry.get(tagName);
  if (existing !== undefined) {
    if (existing === SharedSessionDevtools || existing.prototype instanceof SharedSessionDevtools) {
      return existing as typeof SharedSessionDevtools;
    }
    throw new TypeError(`<${tagName}> is already defined by another element`);
  }
  // One constructor per tag: the registry refuses a class that is already defined under another name.
  const element = tagName === DEVTOOLS_TAG ? SharedSessionDevtools : class extends SharedSessionDevtools {};
  registry.define(tagName, element);
  return element;
}

declare global {
  interface HTMLElementTagNameMap {
    'shared-session-devtools': SharedSessionDevtools;
  }
}
