// Baseline for the RPC benchmark: a SharedWorker that echoes raw MessagePort messages.
self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  port.onmessage = (message) => port.postMessage(message.data);
});
