/**
 * The test's token service: tabs driven without Playwright's `exposeFunction` get their refreshed
 * tokens from it (`?mint=URL`, see the harness). It signs with the test server's secret and lives on
 * 127.0.0.1 and a free port for one test.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { RefreshPlan } from '../app/harness-types.ts';

/** A running token service. */
export interface TokenService {
  /** `http://127.0.0.1:PORT/token`: POST a {@link RefreshPlan} as JSON, get the token as text. */
  readonly url: string;
  /** Tokens signed so far. */
  readonly minted: number;
  close(): Promise<void>;
}

/**
 * Starts a token service that answers each plan with `mint(plan)`.
 *
 * @param mint - signs a token for a plan (the fixtures pass the test server's minter)
 */
export async function startTokenService(mint: (plan: RefreshPlan) => Promise<string>): Promise<TokenService> {
  let minted = 0;
  const server = createServer((request, response) => {
    // The app is served from another port: another origin.
    const headers = { 'access-control-allow-origin': '*', 'content-type': 'text/plain; charset=utf-8' };
    if (request.method !== 'POST' || request.url !== '/token') {
      response.writeHead(404, headers).end('POST /token');
      return;
    }
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      let plan: RefreshPlan;
      try {
        plan = JSON.parse(body) as RefreshPlan;
        if (typeof plan?.sub !== 'string') throw new TypeError('"sub" must be a string');
      } catch (error) {
        response.writeHead(400, headers).end(String(error));
        return;
      }
      mint(plan).then(
        (token) => {
          minted++;
          response.writeHead(200, headers).end(token);
        },
        (error: unknown) => response.writeHead(500, headers).end(String(error)),
      );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/token`,
    get minted() {
      return minted;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
