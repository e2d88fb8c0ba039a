/** What a tab saw of a topic: `seq` numbers (or whole changes with a `seq`). */
export type SeenChanges = readonly (number | { seq: number })[];

/**
 * Throws unless every tab saw the same changes, in strictly increasing `seq` order without gaps
 * or duplicates. Use it with what each tab recorded from `client.subscribe`.
 * Import from `shared-session/testing`.
 *
 * @param seenByTab - per tab, the changes it received, in arrival order
 * @param expectedCount - when given, each tab must have seen exactly this many
 * @example
 * ```ts
 * const seen = await Promise.all(tabs.map((tab) => tab.evaluate(() => window.seen)));
 * assertSameOrderedChanges(seen, 10);
 * ```
 */
export function assertSameOrderedChanges(seenByTab: readonly SeenChanges[], expectedCount?: number): void {
  if (seenByTab.length === 0) throw new Error('no tabs given');
  const seqs = seenByTab.map((seen) => seen.map((c) => (typeof c === 'number' ? c : c.seq)));
  seqs.forEach((list, tab) => {
    for (let i = 1; i < list.length; i++) {
      if (list[i] !== list[i - 1]! + 1) {
        throw new Error(
          `tab ${tab} saw seq ${list[i]} after ${list[i - 1]}: changes must arrive once, in order, without gaps`,
        );
      }
    }
    if (expectedCount !== undefined && list.length !== expectedCount) {
      throw new Error(`tab ${tab} saw ${list.length} changes, expected ${expectedCount}`);
    }
  });
  const reference = JSON.stringify(seqs[0]);
  seqs.forEach((list, tab) => {
    if (JSON.stringify(list) !== reference) {
      throw new Error(`tab ${tab} saw [${list.join(', ')}] but tab 0 saw [${seqs[0]!.join(', ')}]`);
    }
  });
}
