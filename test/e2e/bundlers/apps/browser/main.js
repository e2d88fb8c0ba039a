// The page of every browser app of the matrix (Vite, webpack, Rollup, esbuild): what the test
// needs of shared-session, imported the way an app imports it.
import { HostUnavailableError, NoActiveSessionError, SessionClient, SessionError } from 'shared-session';

window.sharedSession = { SessionClient, SessionError, HostUnavailableError, NoActiveSessionError };
