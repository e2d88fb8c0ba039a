// A server component: shared-session/errors is imported in the React Server Components environment,
// the client component below in the server render and in the browser.
import { SessionError } from 'shared-session/errors';
import SessionDemo from './session-demo.jsx';

export default function Page() {
  return (
    <main>
      <h1>App Router: SessionError is a {typeof SessionError}</h1>
      <SessionDemo />
    </main>
  );
}
