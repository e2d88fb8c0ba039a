// Imports every entry of shared-session where no browser is (plain Node, Vitest, Vite SSR) and
// reports how many names each exports. Creating the page client there must fail with the typed
// HostUnavailableError: browser work starts on use, never on import.
export async function checkEntries() {
  const entries = {
    'shared-session': await import('shared-session'),
    'shared-session/page': await import('shared-session/page'),
    'shared-session/worker': await import('shared-session/worker'),
    'shared-session/server': await import('shared-session/server'),
    'shared-session/errors': await import('shared-session/errors'),
    'shared-session/testing': await import('shared-session/testing'),
    'shared-session/testing/node': await import('shared-session/testing/node'),
    'shared-session/react': await import('shared-session/react'),
    'shared-session/vue': await import('shared-session/vue'),
    'shared-session/svelte': await import('shared-session/svelte'),
  };
  const exported = Object.fromEntries(
    Object.entries(entries).map(([name, module]) => [name, Object.keys(module).length]),
  );
  let construct;
  try {
    new entries['shared-session'].SessionClient({ serverUrl: 'http://127.0.0.1:1' });
    construct = 'constructed';
  } catch (error) {
    construct = `${error.name} ${error.code}`;
  }
  return { exported, construct };
}
