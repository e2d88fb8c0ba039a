import { MAX_CLOSE_REASON_BYTES } from './constants.js';

const encoder = new TextEncoder();

/**
 * Shortens `reason` to at most {@link MAX_CLOSE_REASON_BYTES} UTF-8 bytes without splitting a
 * character, as a WebSocket close frame requires (RFC 6455 §5.5: 125-byte control payload minus the
 * 2-byte code). `ws` throws on a longer reason.
 *
 * @param reason - any text
 */
export function closeReason(reason: string): string {
  if (encoder.encode(reason).length <= MAX_CLOSE_REASON_BYTES) return reason;
  let out = '';
  let bytes = 0;
  for (const char of reason) {
    const size = encoder.encode(char).length;
    if (bytes + size > MAX_CLOSE_REASON_BYTES - 3) break;
    out += char;
    bytes += size;
  }
  return `${out}...`;
}
