// `next start` on a free port: Next's own request handler behind a Node server on 127.0.0.1:0.
// Prints the URL once it listens. NEXT_DIST_DIR (next.config.mjs) picks the build.
import { createServer } from 'node:http';
import next from 'next';

const app = next({ dev: false, dir: import.meta.dirname });
await app.prepare();
const handle = app.getRequestHandler();
const server = createServer((request, response) => handle(request, response));
server.listen(0, '127.0.0.1', () => console.log(`listening on http://127.0.0.1:${server.address().port}/`));
