/**
 * Demo tokens. The example talks to the demo server of `npm start` (or anything with the same two
 * endpoints): `GET /api/config` → `{ serverUrl }`, `GET /api/token?sub=NAME` → `{ token }`, a
 * short-lived HS256 token for that user. A real app gets its tokens from its identity provider.
 */

/** Where the session server is. */
export interface ExampleConfig {
  serverUrl: string;
}

export async function loadConfig(): Promise<ExampleConfig> {
  const response = await fetch('/api/config');
  if (!response.ok) throw new Error(`/api/config answered ${response.status}`);
  return (await response.json()) as ExampleConfig;
}

/** A fresh demo token for `user` (also the refresh handler: each call mints a new one). */
export async function fetchToken(user: string): Promise<string> {
  const response = await fetch(`/api/token?sub=${encodeURIComponent(user)}`);
  if (!response.ok) throw new Error(`/api/token answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}
