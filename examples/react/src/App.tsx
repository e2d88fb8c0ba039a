import { type FormEvent, useState } from 'react';
import type { SessionErrorType } from 'shared-session';
import {
  type TopicChange,
  useConnectionStatus,
  useInfiniteTopic,
  useSession,
  useSessionClient,
  useSessionError,
} from 'shared-session/react';
import { fetchToken } from './tokens.ts';

/** One chat message as the app publishes it. */
interface Message {
  author: string;
  text: string;
}

const CHAT_TOPIC = 'chat';
const PAGE_SIZE = 20;

function Status() {
  const status = useConnectionStatus();
  const session = useSession();
  return (
    <p className="status">
      <span data-testid="status" className={`dot ${status.toLowerCase()}`}>
        {status}
      </span>
      {session && <span data-testid="tabs">{session.tabs} tab(s)</span>}
    </p>
  );
}

function SignIn() {
  const client = useSessionClient();
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<string>();
  const signIn = async (event: FormEvent) => {
    event.preventDefault();
    const user = name.trim();
    if (!user) return;
    try {
      // Every tab of the app joins this session; the refresh handler mints the next token.
      await client.startSession(await fetchToken(user), true, { refreshHandler: () => fetchToken(user) });
    } catch (error) {
      setFailure(String(error));
    }
  };
  return (
    <form onSubmit={signIn} className="sign-in">
      <input aria-label="name" placeholder="your name" value={name} onChange={(e) => setName(e.target.value)} />
      <button type="submit">Sign in</button>
      {failure && <p role="alert">{failure}</p>}
    </form>
  );
}

function ChatMessage({ change, mine }: { change: TopicChange<Message>; mine: boolean }) {
  return (
    <li className={mine ? 'mine' : undefined} data-seq={change.seq}>
      <b>{change.data.author}</b> {change.data.text}
    </li>
  );
}

function Chat({ user }: { user: string }) {
  const client = useSessionClient();
  const { changes, hasMore, loadMore, loading, error } = useInfiniteTopic<Message>(CHAT_TOPIC, {
    pageSize: PAGE_SIZE,
  });
  const [text, setText] = useState('');
  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (!text.trim()) return;
    setText('');
    await client.publish(CHAT_TOPIC, { author: user, text: text.trim() });
  };
  return (
    <section className="chat">
      {hasMore ? (
        <button type="button" onClick={loadMore} disabled={loading}>
          {loading ? 'Loading…' : 'Load older messages'}
        </button>
      ) : (
        <p className="start">Start of the conversation</p>
      )}
      {error && <p role="alert">Could not load the chat: {error.code}</p>}
      <ol aria-label="messages">
        {changes.map((change) => (
          <ChatMessage key={change.seq} change={change} mine={change.data.author === user} />
        ))}
      </ol>
      <form onSubmit={send} className="composer">
        <input aria-label="message" value={text} onChange={(e) => setText(e.target.value)} />
        <button type="submit">Send</button>
      </form>
    </section>
  );
}

/** The chat: status, sign-in (or out), and the feed with its history. */
export function App() {
  const client = useSessionClient();
  const session = useSession();
  const [lastError, setLastError] = useState<SessionErrorType>();
  useSessionError(setLastError);
  return (
    <main>
      <header>
        <h1>shared-session chat</h1>
        <Status />
        {session ? (
          <p>
            Signed in as <b data-testid="user">{session.userId}</b>{' '}
            <button type="button" onClick={() => client.endSession()}>
              Sign out
            </button>
          </p>
        ) : (
          <SignIn />
        )}
        {lastError && <p role="alert">Session error: {lastError}</p>}
      </header>
      {/* A new user gets a fresh feed (the cache is per user). */}
      {session && <Chat key={session.userId} user={session.userId} />}
    </main>
  );
}
