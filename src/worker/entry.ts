// The SharedWorker script shipped as dist/worker.js: the only module with a side effect.
import { hostSession } from './host-session.js';

hostSession(self as unknown as SharedWorkerGlobalScope);
