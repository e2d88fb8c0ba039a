// The demo app: one SessionClient per tab, a shared topic feed, and a status panel fed by the
// client's events and the host's counters. Tokens come from the demo server's /api/token (30 s
// lifetime, so refreshes show). A service worker makes a reload while offline still start the app.
import {
  registerServiceWorker,
  SessionClient,
  type ConnectionStatus,
  type SessionInfo,
  type TopicChange,
} from 'shared-session';

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
    await client.startSession(token, true, {
      refreshHandler: async () => {
        log('refreshHandler called');
        return fetchToken(user, role);
      },
    });
    subscribeFeed();
  } catch (error) {
    log(`startSession failed: ${(error as Error).message}`);
  }
}

function subscribeFeed(): void {
  stopFeed?.();
  $('#feed').replaceChildren();
  received = 0;
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

async function tick(): Promise<void> {
  field('expiry').textContent =
    session?.expiresAt != null ? `${Math.max(0, Math.round((session.expiresAt - Date.now()) / 1000))} s` : '–';
  try {
    const stats = await client.debugHostStats();
    field('host').textContent = `${stats.kind} (${stats.buildId})`;
    field('refreshes').textContent = String(stats.refreshes);
    field('sockets').textContent = String(stats.socketsOpened);
    field('outbox').textContent = String(stats.outbox);
    if (session) field('tabs').textContent = String(stats.tabs);
  } catch (error) {
    field('host').textContent = `unavailable: ${(error as Error).message}`;
  }
}

client.onConnectionStatusChange((status) => {
  renderStatus(status);
  log(`status ${status}`);
}, true);
client.onSessionChange(renderSession, true);

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
