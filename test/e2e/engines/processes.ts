/**
 * Child processes the WebKit adapter starts and must end: an X server (Xvfb) for MiniBrowser's
 * window and one WebKitWebDriver per browser profile (a driver serves a single session).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';

/** Every child still running, ended when the test process exits however it exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

/** A started child process. */
export interface Child {
  readonly pid: number | undefined;
  /** Sends SIGTERM and waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

function track(child: ChildProcess): Child {
  running.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => running.delete(child));
  return {
    pid: child.pid,
    async stop(graceMs = 2_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts `Xvfb` on the first free display (`-displayfd` lets the server pick and tell it).
 *
 * @returns the child and its `DISPLAY` value (`:N`)
 */
export async function startXvfb(): Promise<{ display: string; process: Child }> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  const tracked = track(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const display = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(`:${out.trim()}`);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`Xvfb exited with ${code} before it chose a display: ${stderr}`)));
  });
  return { display, process: tracked };
}

/** A TCP port that was free a moment ago on 127.0.0.1 (for tools that cannot take port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `WebKitWebDriver` on a free port with `DISPLAY` set and waits until `/status` answers.
 *
 * @param executable - the driver binary
 * @param display - the X display MiniBrowser opens its windows on
 * @returns the child and the driver's base URL
 */
export async function startWebKitWebDriver(
  executable: string,
  display: string,
): Promise<{ url: string; process: Child }> {
  const port = await freePort();
  const child = spawn(executable, [`--port=${port}`, '--host=127.0.0.1'], {
    env: { ...process.env, DISPLAY: display },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const tracked = track(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited with ${child.exitCode}: ${stderr}`);
    const ready = await fetch(`${url}/status`).then(
      (response) => response.ok,
      () => false,
    );
    if (ready) return { url, process: tracked };
    if (Date.now() > deadline) {
      await tracked.stop();
      throw new Error(`WebKitWebDriver did not answer on ${url} within 10 s: ${stderr}`);
    }
    // Polling a port nobody announces: the driver prints nothing when it is ready.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
