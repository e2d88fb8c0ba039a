import { describe, expect, it } from 'vitest';
import type { SessionClient } from '../../../src/page/index.js';
import type { DevtoolsClient } from '../../../src/devtools/index.js';

/** Compile-time check: a `SessionClient` is what `panel.client` accepts. */
export const acceptsSessionClient = (client: SessionClient): DevtoolsClient => client;

describe('shared-session/devtools in Node', () => {
  it('imports without a browser global and defines nothing', async () => {
    expect(typeof globalThis.customElements).toBe('undefined');
    const devtools = await import('../../../src/devtools/index.js');
    expect(devtools.DEVTOOLS_TAG).toBe('shared-session-devtools');
    expect(typeof devtools.SharedSessionDevtools).toBe('function');
    expect(devtools.defineDevtools()).toBeUndefined();
  });

  it('defines the element once per tag in a registry, and refuses a tag taken by another element', async () => {
    const { defineDevtools, SharedSessionDevtools } = await import('../../../src/devtools/index.js');
    const defined = new Map<string, CustomElementConstructor>();
    const registry = {
      get: (name: string) => defined.get(name),
      define: (name: string, element: CustomElementConstructor) => void defined.set(name, element),
    } as unknown as CustomElementRegistry;
    expect(defineDevtools(undefined, registry)).toBe(SharedSessionDevtools);
    expect(defineDevtools(undefined, registry), 'again: the same class').toBe(SharedSessionDevtools);
    const custom = defineDevtools('my-session-panel', registry);
    expect(custom?.prototype).toBeInstanceOf(SharedSessionDevtools);
    expect(defineDevtools('my-session-panel', registry)).toBe(custom);
    defined.set('other-element', class {} as unknown as CustomElementConstructor);
    expect(() => defineDevtools('other-element', registry)).toThrow(
      '<other-element> is already defined by another element',
    );
  });
});
