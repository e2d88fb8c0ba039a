// `npm start`: builds the demo against dist/, starts the reference server (durable LMDB store in
// ./data) and serves the demo. Ports and paths come from PORT, SERVER_PORT, DATA_DIR, TOKEN_TTL_SECONDS.
import { fileURLToPath } from 'node:url';
import { startDemo } from '../demo/server.ts';

const say = (line: string) => console.log(`[demo] ${line}`);
const demo = await startDemo({
  port: Number(process.env.PORT ?? 5173),
  serverPort: Number(process.env.SERVER_PORT ?? 8787),
  dataDir: process.env.DATA_DIR ?? fileURLToPath(new URL('../data', import.meta.url)),
  tokenTtlSeconds: Number(process.env.TOKEN_TTL_SECONDS ?? 30),
  log: say,
}).catch((error: unknown) => {
  console.error(`[demo] could not start: ${(error as Error).message}`);
  process.exit(1);
});
say(`demo ready: open ${demo.url} in two or more tabs (or ${demo.url}pair.html for two side by side)`);
say('press Ctrl+C to stop');
const stop = async () => {
  say('stopping');
  await demo.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
