// Floor of the fan-out benchmark: the least any one-socket-per-origin SharedWorker can do. It owns
// one raw socket speaking the protocol and posts each change frame, as the string it arrived as,
// to every connected tab. No library code, no parsing in the worker: what this browser's process
// model and MessagePorts cost on their own.
const ports = [];
let socket;
let ready = false;

function open({ serverUrl, token, topic }) {
  socket = new WebSocket(serverUrl);
  socket.onopen = () =>
    socket.send(JSON.stringify({ type: 'hello', protocol: 1, token, sessionId: crypto.randomUUID() }));
  socket.onmessage = (event) => {
    const frame = event.data;
    if (ready) {
      for (const port of ports) port.postMessage(frame);
      return;
    }
    const message = JSON.parse(frame);
    if (message.type === 'welcome') socket.send(JSON.stringify({ type: 'subscribe', id: 1, topic, after: 0 }));
    else if (message.type === 'subscribed') {
      ready = true;
      for (const port of ports) port.postMessage({ ready: true });
    }
  };
}

self.addEventListener('connect', (event) => {
  const port = event.ports[0];
  ports.push(port);
  port.onmessage = ({ data }) => {
    if (!socket) open(data);
    else if (ready) port.postMessage({ ready: true });
  };
});
