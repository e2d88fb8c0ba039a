import * as Comlink from 'comlink';
import { createSessionError, isSessionError, SessionError } from '../errors/index.js';
import type { SessionErrorCode } from '../protocol/error-codes.js';

interface SerializedError {
  code?: SessionErrorCode;
  name: string;
  message: string;
  stack?: string;
}

/**
 * Replaces comlink's `"throw"` transfer handler so that a {@link SessionError} thrown in the host
 * arrives on the page with its class and `code` (comlink's default keeps only name, message and
 * stack). Idempotent; called by both the page client and the host.
 */
export function registerErrorTransfer(): void {
  // comlink does not export its throw marker; its own handler knows how to recognise a thrown value.
  const builtIn = Comlink.transferHandlers.get('throw');
  if (!builtIn) throw new Error('comlink has no "throw" transfer handler');
  Comlink.transferHandlers.set('throw', {
    canHandle: (value: unknown): value is { value: unknown } => builtIn.canHandle(value),
    serialize({ value }: { value: unknown }) {
      let serialized: SerializedError | { thrown: unknown };
      if (isSessionError(value)) {
        serialized = {
          code: value.code,
          name: value.name,
          message: value.message,
          ...(value.stack && { stack: value.stack }),
        };
      } else if (value instanceof Error) {
        serialized = { name: value.name, message: value.message, ...(value.stack && { stack: value.stack }) };
      } else {
        serialized = { thrown: value };
      }
      return [serialized, []];
    },
    deserialize(serialized: SerializedError | { thrown: unknown }) {
      if ('thrown' in serialized) throw serialized.thrown;
      if (serialized.code) {
        const error = createSessionError(serialized.code, serialized.message);
        if (error.name !== serialized.name && serialized.name !== SessionError.name) error.name = serialized.name;
        throw error;
      }
      const error = new Error(serialized.message);
      error.name = serialized.name;
      if (serialized.stack) error.stack = serialized.stack;
      throw error;
    },
  } satisfies Comlink.TransferHandler<{ value: unknown }, SerializedError | { thrown: unknown }>);
}
