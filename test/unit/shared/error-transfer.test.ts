import * as Comlink from 'comlink';
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { NoActiveSessionError, SessionError, SessionRolesMismatchError } from '../../../src/errors/index.js';
import { registerErrorTransfer } from '../../../src/shared/error-transfer.js';

function connect<T extends object>(api: T): Comlink.Remote<T> {
  const { port1, port2 } = new MessageChannel();
  // Node's MessagePort is close enough to the DOM one for comlink (it ships a node adapter).
  Comlink.expose(api, port1 as unknown as Comlink.Endpoint);
  return Comlink.wrap<T>(port2 as unknown as Comlink.Endpoint);
}

describe('registerErrorTransfer', () => {
  registerErrorTransfer();
  registerErrorTransfer(); // idempotent

  it('keeps the class, name and code of a SessionError across comlink', async () => {
    const remote = connect({
      fail: () => {
        throw new NoActiveSessionError();
      },
      mismatch: () => {
        throw new SessionRolesMismatchError();
      },
    });
    const error = await (remote.fail() as Promise<unknown>).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoActiveSessionError);
    expect(error).toMatchObject({ code: 'NO_ACTIVE_SESSION', name: 'NoActiveSessionError' });
    await expect(remote.mismatch()).rejects.toBeInstanceOf(SessionRolesMismatchError);
  });

  it('keeps a generic code on the base class and plain errors as errors', async () => {
    const remote = connect({
      timeout: () => {
        throw new SessionError('TIMEOUT', 'slow');
      },
      plain: () => {
        throw new RangeError('bad');
      },
      value: () => {
        throw 'just a string';
      },
    });
    await expect(remote.timeout()).rejects.toMatchObject({ code: 'TIMEOUT', name: 'SessionError', message: 'slow' });
    await expect(remote.plain()).rejects.toMatchObject({ name: 'RangeError', message: 'bad' });
    await expect(remote.value()).rejects.toBe('just a string');
  });
});
