// A small multi-tab app standing in for a user's own app in testing-kit-example.spec.ts: one shared
// feed, every tab shows it and can post to it. `?server=…&token=…&topic=…` say where, who and what.
// Plain JavaScript like entry.js: `shared-session` resolves to the built package.
import { SessionClient } from 'shared-session';

const params = new URLSearchParams(location.search);
const topic = params.get('topic') ?? 'feed:team';
const status = document.querySelector('[data-testid="status"]');
const error = document.querySelector('[data-testid="error"]');
const feed = document.querySelector('ol');
const form = document.querySelector('form');

const client = new SessionClient({ serverUrl: params.get('server') });
client.onConnectionStatusChange((s) => (status.textContent = s), true);
client.onSessionError((type) => (error.textContent = type));
await client.startSession(params.get('token'));

client.subscribe(
  topic,
  (change) => {
    const item = document.createElement('li');
    item.dataset.seq = String(change.seq);
    item.textContent = change.data.text;
    feed.append(item);
  },
  { onError: (e) => (error.textContent = e.code) },
);

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = form.elements.namedItem('text');
  const text = input.value;
  input.value = '';
  try {
    await client.publish(topic, { text });
  } catch (e) {
    error.textContent = e.code;
  }
});
