// Where a server's time went: `npx tsx bench/load/profile-summary.ts <file.cpuprofile> [top]`
// prints the functions with the most self time, and the same time by package/module (node
// internals, ws, jose, lmdb, ioredis, this package's modules, GC), from a V8 CPU profile written
// by `node --cpu-prof` (the benches pass it to their server processes with `--cpu-prof DIR`).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg = '25'] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: profile-summary.ts <file.cpuprofile> [top]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
// Self time per node: each sample's delta goes to the node sampled.
const selfUs = new Map<number, number>();
profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
const idleUs = [...selfUs]
  .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
  .reduce((a, [, us]) => a + us, 0);
const busyUs = totalUs - idleUs;

/** The module a frame belongs to: a package name, a file of this package, or a V8 pseudo-frame. */
function moduleOf(node: ProfileNode): string {
  const { url, functionName } = node.callFrame;
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(?:dist|src)\/(.+)$/.exec(url);
  return own ? own[1]! : url;
}

const sum = (key: (node: ProfileNode) => string): [string, number][] => {
  const totals = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined || node.callFrame.functionName === '(idle)') continue;
    totals.set(key(node), (totals.get(key(node)) ?? 0) + us);
  }
  return [...totals].sort((a, b) => b[1] - a[1]);
};
const top = Number(topArg);
const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1)}%`.padStart(6);
console.log(`${file}: ${(totalUs / 1e6).toFixed(2)} s sampled, ${(busyUs / 1e6).toFixed(2)} s busy (not idle)`);
console.log('\nself time by module (share of busy time):');
for (const [name, us] of sum(moduleOf).slice(0, top)) console.log(`${pct(us)}  ${name}`);
console.log('\nself time by function:');
for (const [name, us] of sum(
  (n) => `${n.callFrame.functionName || '(anonymous)'}  ${moduleOf(n)}:${n.callFrame.lineNumber + 1}`,
).slice(0, top))
  console.log(`${pct(us)}  ${name}`);
