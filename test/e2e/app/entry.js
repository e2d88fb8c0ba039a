// Plain JavaScript on purpose: `shared-session` resolves (through the Vite alias) to the built package,
// whose types exist only after `npm run build`, while `npm run check` type-checks test/ before building.
// Everything else lives in the type-checked harness.ts.
import { SessionClient } from 'shared-session';
import * as errors from 'shared-session/errors';
import { installHarness } from './harness.ts';

installHarness({ SessionClient, errors });
