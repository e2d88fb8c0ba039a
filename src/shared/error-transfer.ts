import * as Comlink from 'comlink';
import { createSessionError, isSessionError } from '../errors/index.js';
import type { SessionErrorCode } from '../protocol/error-codes.js';

/**
 * A thrown value as it crosses the tab ↔ host boundary. The shapes stay readable by pages and hosts
 * of earlier builds (which know `code` → SessionError, else plain error, and `thrown`): a plain
 * error's code travels as `errorCode`, so an older page does not mistake it for a SessionError.
 */
type WireThrown = WireSessionError | WirePlainError | { thrown: unknown };

/** One of shared-session's own errors, marked so: rebuilt as its class on the other side. */
interface WireSessionError {
  sessionError: true;
  code: SessionErrorCode;
  name: string;
  message: string;
  stack?: string;
}

/** Any other `Error`: stays a plain error (`errorCode` is its `code` property, e.g. `ECONNRESET`). */
interface WirePlainError {
  name: string;
  message: string;
  stack?: string;
  errorCode?: string | number;
}

/** Built-in error classes a plain error is rebuilt as, so that `instanceof TypeError` still holds. */
const BUILT_IN_ERRORS: Readonly<Record<string, ErrorConstructor>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};

/** Encodes a thrown value for the wire. */
function serialize(value: unknown): WireThrown {
  if (isSessionError(value)) {
    const wire: WireSessionError = { sessionError: true, code: value.code, name: value.name, message: value.message };
    if (value.stack !== undefined) wire.stack = value.stack;
    return wire;
  }
  if (value instanceof Error) {
    const wire: WirePlainError = { name: value.name, message: value.message };
    if (value.stack !== undefined) wire.stack = value.stack;
    const code: unknown = (value as { code?: unknown }).code;
    if (typeof code === 'string' || typeof code === 'number') wire.errorCode = code;
    return wire;
  }
  return { thrown: value };
}

/** Rebuilds a thrown value from the wire. */
function deserialize(wire: WireThrown): unknown {
  if ('thrown' in wire) return wire.thrown;
  // Hosts of earlier builds sent `code` without the mark, and only for what they took for a SessionError.
  if ('sessionError' in wire || 'code' in wire) {
    const { code, name, message, stack } = wire as WireSessionError;
    const error = createSessionError(code, message);
    // A subclass the page does not know (e.g. from a newer host) keeps its name on the closest class.
    if (name !== error.name && name !== 'SessionError') (error as { name: string }).name = name;
    if (stack !== undefined) error.stack = stack;
    return error;
  }
  const plain = wire as WirePlainError;
  const Class = (Object.hasOwn(BUILT_IN_ERRORS, plain.name) && BUILT_IN_ERRORS[plain.name]) || Error;
  const error: Error & { code?: string | number } = new Class(plain.message);
  if (error.name !== plain.name) error.name = plain.name;
  if (plain.stack !== undefined) error.stack = plain.stack;
  if (plain.errorCode !== undefined) error.code = plain.errorCode;
  return error;
}

/**
 * Replaces comlink's `"throw"` transfer handler (which keeps only name, message and stack) so that
 * a {@link SessionError} thrown in the host arrives on the page as its class, with `code`, `name`
 * and stack, while any other error stays a plain error — with its `name`, `message`, `stack`, and
 * `code` as a property. Idempotent; called by both the page client and the host.
 *
 * @example
 * ```ts
 * registerErrorTransfer();
 * const host = Comlink.wrap<HostApi>(port);
 * await host.updateSessionToken(tabId, token); // rejects with e.g. a TokenExpiredError
 * ```
 */
export function registerErrorTransfer(): void {
  // comlink does not export its throw marker; its own handler knows how to recognise a thrown value.
  const builtIn = Comlink.transferHandlers.get('throw');
  if (!builtIn) throw new Error('comlink has no "throw" transfer handler');
  Comlink.transferHandlers.set('throw', {
    canHandle: (value: unknown): value is { value: unknown } => builtIn.canHandle(value),
    serialize: ({ value }: { value: unknown }) => [serialize(value), []],
    deserialize(wire: WireThrown): never {
      throw deserialize(wire);
    },
  } satisfies Comlink.TransferHandler<{ value: unknown }, WireThrown>);
}
