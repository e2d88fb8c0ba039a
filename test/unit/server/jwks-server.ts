import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload } from 'jose';

/** How the local key-set endpoint answers: well, or one of the outages a real one has. */
export type JwksBehaviour = 'ok' | 'status-500' | 'not-json' | 'invalid-set' | 'hang';

/** A signing key of a test identity provider: its private key and its public JWK (with `kid`). */
export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256';
  sign(claims: JWTPayload, expiresIn?: string): Promise<string>;
  jwk: JWK;
}

/** Generates a key pair and the signer of tokens with that key's `kid`. */
export async function signingKey(alg: 'RS256' | 'ES256', kid = `${alg}-${randomUUID()}`) {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  const key: SigningKey = {
    kid,
    alg,
    jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' },
    sign: (claims, expiresIn = '1h') =>
      new SignJWT(claims)
        .setProtectedHeader({ alg, kid, typ: 'JWT' })
        .setIssuedAt()
        .setExpirationTime(expiresIn)
        .sign(privateKey),
  };
  return key;
}

/**
 * A local HTTP server serving a JSON Web Key Set at `path`, which misbehaves on command
 * (`behaviour`) and counts its fetches.
 */
export class JwksServer {
  behaviour: JwksBehaviour = 'ok';
  fetches = 0;
  readonly keys: JWK[] = [];
  readonly #server: Server;
  readonly #path: string;
  #port = 0;

  private constructor(path: string) {
    this.#path = path;
    this.#server = createServer((req, res) => {
      if (req.url !== path) {
        res.writeHead(404).end();
        return;
      }
      this.fetches++;
      switch (this.behaviour) {
        case 'ok':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
          return;
        case 'status-500':
          res.writeHead(500, { 'content-type': 'text/plain' }).end('upstream down');
          return;
        case 'not-json':
          res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>');
          return;
        case 'invalid-set':
          res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: 'none' }));
          return;
        case 'hang':
          return; // never answers; the verifier's timeout must fire
      }
    });
  }

  /** Starts a key-set server on a free loopback port. */
  static async start(path = '/.well-known/jwks.json'): Promise<JwksServer> {
    const jwks = new JwksServer(path);
    await new Promise<void>((resolve) => jwks.#server.listen(0, '127.0.0.1', resolve));
    jwks.#port = (jwks.#server.address() as AddressInfo).port;
    return jwks;
  }

  /** The key set's URL. */
  get url(): string {
    return `http://127.0.0.1:${this.#port}${this.#path}`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise((resolve) => this.#server.close(resolve));
  }
}
