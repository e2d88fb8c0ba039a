// The built CLI (`runCli` of dist/server/index.js) with one addition for the tests: the per-user
// socket counts of its `stats()` on a second loopback port. `GET /health` carries counts only (no
// user ids), but the scale-out tests must know which process holds a user's socket.
// Usage: node server-process.mjs <dist/server/index.js> <cli arguments…>
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [indexPath, ...argv] = process.argv.slice(2);
const { runCli } = await import(pathToFileURL(indexPath).href);
let server;
const side = createServer((_req, res) => {
  res.writeHead(server === undefined ? 503 : 200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(server?.stats().socketsByUser ?? {}));
});
await new Promise((resolve) => side.listen(0, '127.0.0.1', resolve));
console.log(`test users endpoint on http://127.0.0.1:${side.address().port}/`);
process.exitCode = await runCli(argv, {
  onListening: (listening) => {
    server = listening;
  },
});
side.close();
