// The demo app: one SessionClient per tab, a status panel fed by the client's events and the
// host's counters. Tokens come from the demo server's /api/token (30 s lifetime, so refreshes show).
import { SessionClient, type ConnectionStatus, type SessionInfo } from 'shared-session';

interface DemoConfig {
  serverUrl: string;
  tokenTtlSeconds: number;
}

const $ = <T extends HTMLElement>(selector: string) => document.querySelector<T>(selector)!;
const field = (name: string) => $(`[data-field="${name}"]`);
const USER_KEY = 'shared-session-demo:user';

const config: DemoConfig = await (await fetch('/api/config')).json();
const client = new SessionClient({ serverUrl: config.serverUrl, onSessionError: (type) => showError(type) });
let session: SessionInfo | undefined;

async function fetchToken(user: string, role: string): Promise<string> {
  const response = await fetch(`/api/token?sub=${encodeURIComponent(user)}&roles=${encodeURIComponent(role)}`);
  if (!response.ok) throw new Error(`token endpoint answered ${response.status}`);
  return ((await response.json()) as { token: string }).token;
}

async function signIn(user: string, role: string): Promise<void> {
  localStorage.setItem(USER_KEY, JSON.stringify({ user, role }));
  log(`startSession as ${user} (${role})`);
  try {
    await client.startSession(await fetchToken(user, role), true, {
      refreshHandler: async () => {
        log('refreshHandler called');
        return fetchToken(user, role);
      },
    });
  } catch (error) {
    log(`startSession failed: ${(error as Error).message}`);
  }
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
  void client.endSession().then(() => log('endSession done'));
});
$('#clear').addEventListener('click', () => void client.clear().then(() => log('clear done')));

const saved = localStorage.getItem(USER_KEY);
if (saved) {
  const { user, role } = JSON.parse(saved) as { user: string; role: string };
  $<HTMLInputElement>('#user').value = user;
  $<HTMLSelectElement>('#role').value = role;
  void signIn(user, role);
}
setInterval(() => void tick(), 1000);
void tick();
