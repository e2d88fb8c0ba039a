/**
 * Turns the `serverUrl` option into the WebSocket URL to dial: `http:` → `ws:`, `https:` → `wss:`,
 * `ws(s):` kept; a relative URL resolves against the page. Throws `TypeError` for anything else.
 *
 * @param serverUrl - http(s) or ws(s) URL of the server
 */
export function toSocketUrl(serverUrl: string): string {
  if (typeof serverUrl !== 'string' || serverUrl.length === 0) {
    throw new TypeError('"serverUrl" must be a non-empty http(s) or ws(s) URL');
  }
  let url: URL;
  try {
    url = new URL(serverUrl, globalThis.location?.href);
  } catch {
    throw new TypeError(`"serverUrl" is not a valid URL: ${JSON.stringify(serverUrl)}`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (!scheme) throw new TypeError(`"serverUrl" must use http(s) or ws(s), not ${url.protocol}`);
  url.protocol = scheme;
  return url.toString();
}
