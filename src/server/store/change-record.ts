import type { JsonValue } from '../../protocol/messages.js';
import type { StoredChange } from './topic-store.js';
import { toJson } from './validate.js';

/** A change as the durable stores keep it, as JSON text; its topic and seq are the key. */
interface ChangeRecord {
  publishedAt: number;
  clientId?: string;
  data: JsonValue;
}

/**
 * The JSON text a store keeps for a change, composed around the validated data so that the data
 * is serialised once (and nothing can throw later, inside a store transaction).
 *
 * @param data - the change's data (validated here)
 * @param publishedAt - epoch ms
 * @param clientId - the publisher's client id, if any
 */
export function encodeChangeRecord(data: JsonValue, publishedAt: number, clientId: string | undefined): string {
  const clientIdMember = clientId === undefined ? '' : `"clientId":${JSON.stringify(clientId)},`;
  return `{"publishedAt":${publishedAt},${clientIdMember}"data":${toJson(data)}}`;
}

/**
 * Builds a change from its key and the record text a store kept (or a channel message that starts
 * with the same fields).
 *
 * @param topic - the change's topic
 * @param seq - the change's seq
 * @param text - what {@link encodeChangeRecord} produced
 */
export function decodeChangeRecord(topic: string, seq: number, text: string): StoredChange {
  const record = JSON.parse(text) as ChangeRecord;
  const change: StoredChange = { topic, seq, data: record.data, publishedAt: record.publishedAt };
  if (record.clientId !== undefined) change.clientId = record.clientId;
  return change;
}
