/**
 * Budgets of the LMDB store's tails: the clientIds of a topic's newest changes (a `ClientIdSeqs`
 * per topic, `client-id-seqs.ts`), held in memory instead of being written to its `dedup` database
 * one random key per append (which dominated the store's cost: every append dirtied one more
 * B-tree page). The records themselves carry their clientId, so a
 * tail lost with the process is read back from the records after the topic's indexed seq; the
 * store writes a tail as one sorted run (`clientid-runs.ts`) once it is
 * {@link DEDUP_TAIL_FLUSH_AT} long, or sooner when all tails together pass
 * {@link DEDUP_TAIL_BUDGET}.
 *
 * @module
 */

/**
 * A topic's tail is written as one run (and emptied) once it holds this many clientIds; so at
 * most about this many records are read again to rebuild it after a restart.
 */
export const DEDUP_TAIL_FLUSH_AT = 4_096;

/**
 * Most clientIds all topics' tails hold in memory together (about 100 bytes each); past it the
 * tails of the topics a transaction wrote are flushed as runs. (Index pairs, not tails, are what
 * drops states: see {@link DEDUP_INDEX_BUDGET}.)
 */
export const DEDUP_TAIL_BUDGET = 262_144;

/**
 * Most (hash, seq) pairs all cached topics' indexes of flushed clientIds hold in memory together
 * (12 bytes each, about 24 MB); past it the least recently written topics' states are dropped
 * (their indexes are read again from their runs when they are next written).
 */
export const DEDUP_INDEX_BUDGET = 2_097_152;
