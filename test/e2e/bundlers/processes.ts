import { type ChildProcess, spawn } from 'node:child_process';
import { NPM_ENV } from './consumer.ts';

/** A server process the test started, and its URL. */
export interface ServerProcess {
  url: string;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
  /** Ends the process (by its pid) and resolves once it exited. */
  stop(): Promise<void>;
}

/** Resolves when `child` exits (at once if it already has). */
function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `node script` in `cwd` and resolves once it printed a line matching `ready` (whose first
 * group is the URL); rejects with its output when it exits first or takes longer than `timeoutMs`.
 *
 * @param script - the script, relative to `cwd`
 * @param cwd - the app's directory
 * @param env - more environment variables
 * @param ready - the line that says it listens, e.g. `/listening on (\S+)/`
 * @param timeoutMs - how long it may take to start
 */
export async function startServerProcess(
  script: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  timeoutMs: number,
): Promise<ServerProcess> {
  const child = spawn(process.execPath, [script], {
    cwd,
    env: { ...NPM_ENV, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited(child);
  };
  const url = await new Promise<string>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(`did not print ${ready} within ${timeoutMs} ms`), timeoutMs);
    const fail = (why: string) => {
      if (settled) return; // an exit after it listened is the stop() below
      settled = true;
      clearTimeout(timer);
      void stop();
      reject(new Error(`node ${script} in ${cwd} ${why}:\n${output}`));
    };
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = ready.exec(output);
      if (!settled && match?.[1]) {
        settled = true;
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => fail(`exited (${code ?? signal})`));
  });
  return { url, output: () => output, stop };
}
