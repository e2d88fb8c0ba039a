// Plain Node: `node run-node.mjs` prints what checkEntries() found, as JSON.
import { checkEntries } from './check-entries.js';

console.log(JSON.stringify(await checkEntries()));
