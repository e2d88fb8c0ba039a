/** `value` as JSON text with its UTF-8 size, or why it is not a JSON value. */
export type MeasuredJson = { ok: true; json: string; bytes: number } | { ok: false; reason: string; cause?: unknown };

/**
 * Serialises `value` once and measures it, for the size limits of publishes (host outbox, server)
 * and stores. `JSON.stringify` throws for BigInt and cycles (and nesting deeper than the stack) and
 * returns undefined for undefined, functions and symbols: both are "not a JSON value".
 *
 * @param value - the data to publish or store
 */
export function measureJson(value: unknown): MeasuredJson {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    return { ok: false, reason: '"data" must be a JSON value (no BigInt, cycles or excessive nesting)', cause };
  }
  if (typeof json !== 'string')
    return { ok: false, reason: '"data" must be a JSON value, not undefined or a function' };
  return { ok: true, json, bytes: utf8Length(json) };
}

/** UTF-8 byte length of a string, without encoding it (the same in Node and browsers). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3; // a lone surrogate is written as U+FFFD
    } else bytes += 3;
  }
  return bytes;
}
