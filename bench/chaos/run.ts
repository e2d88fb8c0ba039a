// The chaos suite, longer and harsher (issue 10): `npx tsx bench/chaos/run.ts [--kills N] [--tab-ops N]
// [--seed S]` after `npm run build`.
//
// Runs the Playwright chaos specs of test/e2e/chaos (the ones `npm test` runs) with:
// - every server generation a child process killed with SIGKILL (CHAOS_SERVER=process), not an
//   in-process server whose sockets are destroyed;
// - the host reconnecting on its own backoff alone (CHAOS_NATURAL_RECONNECT=1): no `connect()`
//   nudge after a restart, so the reconnect times printed are the backoff's (2.5–5 s once it has
//   grown: it starts over only after 10 s of uptime);
// - more kills and tab operations when asked (default 50 kills, 400 opens/closes).
// The specs print their figures; this script only sets the knobs and passes the exit code on.
// Everything runs on 127.0.0.1 and stops by itself (about 5 minutes with the defaults).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '50' },
    'tab-ops': { type: 'string', default: '400' },
    seed: { type: 'string' },
  },
});
const root = fileURLToPath(new URL('../../', import.meta.url));
const env: NodeJS.ProcessEnv = {
  ...process.env,
  CI: '1',
  CHAOS_SERVER: 'process',
  CHAOS_NATURAL_RECONNECT: '1',
  CHAOS_KILLS: values.kills,
  CHAOS_TAB_OPS: values['tab-ops'],
  ...(values.seed !== undefined && { CHAOS_SEED: values.seed }),
};
console.log(
  `chaos bench: ${values.kills} kills (child processes, SIGKILL, the host's own backoff), ${values['tab-ops']} tab opens/closes`,
);
const child = spawn('npx', ['playwright', 'test', 'test/e2e/chaos', '--workers', '1', '--retries', '0'], {
  cwd: root,
  env,
  stdio: 'inherit',
});
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
