import * as Comlink from 'comlink';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import {
  NoActiveSessionError,
  SessionError,
  SessionRolesMismatchError,
  TokenExpiredError,
} from '../../../src/errors/index.js';
import { registerErrorTransfer } from '../../../src/shared/error-transfer.js';

const ports: { close(): void }[] = [];
afterAll(() => ports.forEach((port) => port.close()));

function connect<T extends object>(api: T): Comlink.Remote<T> {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  // Node's MessagePort is close enough to the DOM one for comlink (it ships a node adapter).
  Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
  return Comlink.wrap<T>(port2 as unknown as Comlink.Endpoint);
}

/** What `fn` rejects with when called through comlink. */
async function thrownThrough(fn: () => unknown): Promise<unknown> {
  const remote = connect({ fn });
  return (remote.fn() as Promise<unknown>).then(
    () => expect.unreachable('the call resolved'),
    (error: unknown) => error,
  );
}

describe('registerErrorTransfer', () => {
  registerErrorTransfer();
  registerErrorTransfer(); // idempotent

  it('keeps the class, name and code of a SessionError across comlink', async () => {
    const error = await thrownThrough(() => {
      throw new NoActiveSessionError();
    });
    expect(error).toBeInstanceOf(NoActiveSessionError);
    expect(error).toMatchObject({ code: 'NO_ACTIVE_SESSION', name: 'NoActiveSessionError' });
    await expect(
      thrownThrough(() => {
        throw new SessionRolesMismatchError();
      }),
    ).resolves.toBeInstanceOf(SessionRolesMismatchError);
  });

  it("keeps a SessionError's stack from the side that threw it", async () => {
    const thrown = new TokenExpiredError('the token expired at 12:00');
    const error = (await thrownThrough(() => {
      throw thrown;
    })) as Error;
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect(error.stack).toBe(thrown.stack);
  });

  it('rebuilds a base SessionError with a subclass code as that subclass, and keeps a generic code on the base class', async () => {
    const byCode = await thrownThrough(() => {
      throw new SessionError('NO_ACTIVE_SESSION', 'none');
    });
    expect(byCode).toBeInstanceOf(NoActiveSessionError);
    const generic = await thrownThrough(() => {
      throw new SessionError('TIMEOUT', 'slow');
    });
    expect(generic).toBeInstanceOf(SessionError);
    expect(generic).toMatchObject({ code: 'TIMEOUT', name: 'SessionError', message: 'slow' });
  });

  it('keeps an Error with a string code (ECONNRESET) a plain Error, with its name, message, stack and code', async () => {
    const thrown = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    const error = (await thrownThrough(() => {
      throw thrown;
    })) as Error & { code?: unknown };
    expect(error).not.toBeInstanceOf(SessionError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'Error', message: 'socket hang up', code: 'ECONNRESET' });
    expect(error.stack).toBe(thrown.stack);
  });

  it('keeps built-in error classes and custom names of plain errors', async () => {
    const range = await thrownThrough(() => {
      throw new RangeError('bad');
    });
    expect(range).toBeInstanceOf(RangeError);
    expect(range).toMatchObject({ name: 'RangeError', message: 'bad' });
    const custom = await thrownThrough(() => {
      throw Object.assign(new Error('no'), { name: 'AbortError', code: 20 });
    });
    expect(custom).not.toBeInstanceOf(SessionError);
    expect(custom).toMatchObject({ name: 'AbortError', message: 'no', code: 20 });
  });

  it('throws non-errors as they are', async () => {
    await expect(
      thrownThrough(() => {
        throw 'just a string';
      }),
    ).resolves.toBe('just a string');
  });

  it('reads what a host of an earlier build sent (code without the SessionError mark)', async () => {
    const handler = Comlink.transferHandlers.get('throw')!;
    const legacy = { code: 'TOKEN_EXPIRED', name: 'TokenExpiredError', message: 'expired', stack: 'at host' };
    let error: unknown;
    try {
      handler.deserialize(legacy);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TokenExpiredError);
    expect(error).toMatchObject({ code: 'TOKEN_EXPIRED', message: 'expired', stack: 'at host' });
  });
});

describe('SessionError in a minified consumer build', () => {
  it('keeps literal names, static codes and instanceof when the minifier renames the classes', async () => {
    // What a user's production build does: Vite bundles and minifies, renaming the classes.
    const { build } = await import('vite');
    const output = (await build({
      configFile: false,
      logLevel: 'silent',
      build: {
        write: false,
        minify: true,
        lib: { entry: fileURLToPath(new URL('../../../src/errors/index.ts', import.meta.url)), formats: ['es'] },
      },
    })) as { output: { type: string; code?: string }[] }[];
    const code = output[0]!.output.find((chunk) => chunk.type === 'chunk')!.code!;
    expect(code, 'the class names were minified away').not.toMatch(/class TokenExpiredError\b/);
    const errors = (await import(
      `data:text/javascript;base64,${Buffer.from(code).toString('base64')}`
    )) as typeof import('../../../src/errors/index.js');
    const expired = errors.createSessionError('TOKEN_EXPIRED', 'late');
    expect(expired).toBeInstanceOf(errors.TokenExpiredError);
    expect(expired).toBeInstanceOf(errors.SessionError);
    expect(expired).toMatchObject({ name: 'TokenExpiredError', code: 'TOKEN_EXPIRED' });
    expect(errors.TokenExpiredError.code).toBe('TOKEN_EXPIRED');
    expect(new errors.HostUnavailableError().name).toBe('HostUnavailableError');
    expect(new errors.SessionError('INTERNAL', 'x').name).toBe('SessionError');
    expect(errors.isSessionError(expired)).toBe(true);
  });
});
