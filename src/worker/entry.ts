// The worker script shipped as dist/worker.js, the only module with a side effect. Loaded as a
// SharedWorker it hosts the session for every tab; loaded as the leader tab's dedicated worker
// (where SharedWorker is unavailable) it hosts it over BroadcastChannel.
import { hostLeaderSession, hostSession } from './host-session.js';

if ('onconnect' in self) hostSession(self as unknown as SharedWorkerGlobalScope);
else hostLeaderSession();
