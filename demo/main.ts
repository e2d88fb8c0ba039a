// The demo app: one SessionClient per tab, a shared topic feed that follows the session (every tab
// subscribes when a session starts, whichever tab started it, and clears the feed when it ends), a
// status panel fed by the client's events and client.inspect(), and the devtools panel docked at the
// bottom. Tokens come from the demo server's /api/token (30 s lifetime, so refreshes show). A service
// worker makes a reload while offline still start the app.
import {
  registerServiceWorker,
  SessionClient,
  type ConnectionStatus,
  type HostInspection,
  type SessionInfo,
  type TopicChange,
} from 'shared-session';
import { defineDevtools } from 'shared-session/devtools';

interface DemoConfig {
  serverUrl: string;
  tokenTtlSeconds: number;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const field = (name: string) => $(`[data-field="${name}"]`);
const USER_KEY = 'shared-session-demo:user';
const TOKEN_KEY = 'shared-session-demo:token';
const FEED = 'feed:public';

const config: DemoConfig = await (await fetch('/api/config')).json();
const client = new SessionClient({ serverUrl: config.serverUrl, onSessionError: (type) => showError(type) });
let session: SessionInfo | undefined;
let received = 0;
let stopFeed: (() => void) | undefined;
/** The session the feed is subscribed for (`undefined`: signed out, no subscription). */
let feedSession: string | undefined;
/** Server clock minus local clock, from the last inspection (the token countdown uses it). */
let clockOffsetMs = 0;

async function fetchToken(user: string, role: string): Promise<string> {
  const response = await fetch(`/api/token?sub=${encodeURIComponent(user)}&roles=${encodeURIComponent(role)}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  const { token } = (await response.json()) as { token: string };
  localStorage.setItem(TOKEN_KEY, token);
  return token;
}

async function signIn(user: string, role: string): Promise<void> {
  localStorage.setItem(USER_KEY, JSON.stringify({ user, role }));
  log(`startSession as ${user} (${role})`);
  // Offline, the last token (even expired) lets the host resume the stored session from IndexedDB.
  const token = await fetchToken(user, role).catch(() => localStorage.getItem(TOKEN_KEY) ?? '');
  try {
    // The feed follows the session (followSession), in this tab and every other one.
    await client.startSession(token, true, {
      refreshHandler: async () => {
        log('refreshHandler called');
        return fetchToken(user, role);
      },
    });
  } catch (error) {
    log(`startSession failed: ${(error as Error).message}`);
  }
}

/**
 * Subscribes the feed when a session starts (signed in here or in any other tab) and drops it when
 * the session ends or another user's starts: each session shows its own feed from the start, once.
 * Session events that only change the token or the tab count keep the subscription.
 */
function followSession(next: SessionInfo | undefined): void {
  if (next?.id === feedSession) return;
  feedSession = next?.id;
  stopFeed?.();
  stopFeed = undefined;
  $('#feed').replaceChildren();
  received = 0;
  field('messages').textContent = '0';
  if (next === undefined) return;
  stopFeed = client.subscribe(FEED, (change) => showChange(change), {
    onError: (error) => log(`feed refused: ${error.code}`),
  });
}

function showChange(change: TopicChange): void {
  received++;
  field('messages').textContent = String(received);
  const data = change.data as { text?: string; from?: string } | null;
  const item = document.createElement('li');
  item.value = change.seq;
  item.textContent = `${data?.from ?? '?'}: ${data?.text ?? JSON.stringify(change.data)} `;
  const when = document.createElement('small');
  when.textContent = new Date(change.publishedAt).toLocaleTimeString();
  item.append(when);
  $('#feed').prepend(item);
}

function showError(type: string): void {
  field('error').textContent = `${type} at ${new Date().toLocaleTimeString()}`;
  log(`session error ${type}`);
}

function log(text: string): void {
  const item = document.createElement('li');
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $('#log').prepend(item);
}

function renderStatus(status: ConnectionStatus): void {
  const badge = $('#status-badge');
  badge.textContent = status;
  badge.dataset.status = status;
  field('socket').textContent = status;
}

function renderSession(next: SessionInfo | undefined): void {
  session = next;
  field('session').textContent = next?.id ?? '–';
  field('user').textContent = next ? `${next.userId} [${next.roles.join(', ')}]` : '–';
  field('tabs').textContent = next ? String(next.tabs) : '–';
}

/** Seconds until the token's `exp` (on the server's clock, so corrected by the learned offset). */
function expiryText(): string {
  if (!session) return '–';
  if (session.expiresAt === null) return 'never';
  return `${Math.max(0, Math.floor((session.expiresAt - (Date.now() + clockOffsetMs)) / 1000))} s`;
}

function renderHost(host: HostInspection): void {
  clockOffsetMs = host.clockOffsetMs;
  field('host').textContent = `${host.kind} (${host.buildId})`;
  field('refreshes').textContent = String(host.refreshes);
  field('sockets').textContent = String(host.socketsOpened);
  field('outbox').textContent = String(host.outbox);
  if (session) field('tabs').textContent = String(host.tabs);
}

async function tick(): Promise<void> {
  try {
    renderHost(await client.inspect());
  } catch (error) {
    field('host').textContent = `unavailable: ${(error as Error).message}`;
  }
  field('expiry').textContent = expiryText();
}

client.onConnectionStatusChange((status) => {
  renderStatus(status);
  log(`status ${status}`);
}, true);
client.onSessionChange((next) => {
  renderSession(next);
  followSession(next);
}, true);

// The devtools panel, docked at the bottom: one click on its bar opens it.
defineDevtools();
document.querySelector('shared-session-devtools')!.client = client;

const worker = await registerServiceWorker('/sw.js', { client }).catch((error: unknown) => {
  log(`service worker not registered: ${(error as Error).message}`);
  return undefined;
});
const showUpdate = () => {
  field('update').textContent = 'new version ready';
  $('#update-banner').hidden = false;
};
worker?.onUpdateAvailable(showUpdate);
client.onUpdateAvailable(showUpdate);
$('#apply-update').addEventListener('click', () => void (worker ? worker.applyUpdate() : client.reloadAllTabs()));

$<HTMLFormElement>('#signin-form').addEventListener('submit', (event) => {
  event.preventDefault();
  void signIn($<HTMLInputElement>('#user').value.trim() || 'alice', $<HTMLSelectElement>('#role').value);
});
$('#other-user').addEventListener('click', () => {
  const user = `user-${crypto.randomUUID().slice(0, 4)}`;
  $<HTMLInputElement>('#user').value = user;
  void signIn(user, $<HTMLSelectElement>('#role').value);
});
$('#end-session').addEventListener('click', () => {
  localStorage.removeItem(USER_KEY);
  localStorage.removeItem(TOKEN_KEY);
  void client.endSession().then(() => log('endSession done'));
});
$('#clear').addEventListener('click', () => void client.clear().then(() => log('clear done')));
$<HTMLFormElement>('#publish-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $<HTMLInputElement>('#message');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  const from = session?.userId ?? 'me';
  client.publish(FEED, { text, from }).then(
    ({ seq }) => log(`published #${seq}`),
    (error: Error & { code?: string }) => log(`publish failed: ${error.code ?? error.message}`),
  );
});

const saved = localStorage.getItem(USER_KEY);
if (saved) {
  const { user, role } = JSON.parse(saved) as { user: string; role: string };
  $<HTMLInputElement>('#user').value = user;
  $<HTMLSelectElement>('#role').value = role;
  void signIn(user, role);
}
setInterval(() => void tick(), 1000);
void tick();
