// RPC breakdown (bench/profile.ts): answers each message with comlink's reply envelope, without
// comlink — what structured-cloning comlink's request and reply objects costs over a raw echo.
self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  port.onmessage = (message) => port.postMessage({ type: 'RAW', value: Date.now(), id: message.data.id }, []);
});
