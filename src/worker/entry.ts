// The worker script shipped as dist/worker.js, the only module with a side effect. Loaded as a
// SharedWorker it hosts the session for every tab; loaded as the leader tab's dedicated worker
// (where SharedWorker is unavailable) it hosts it over BroadcastChannel.
import { hostSession } from './host-session.js';

hostSession(self);
