// The demo's service worker: precaches the app shell and the session worker script so that a reload
// while offline still starts the app (which then shows the cached session and changes and queues
// publishes). The build fills in the precache list and version (see vite.config.ts).
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const RUNTIME = ['/api/config'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(VERSION).then((cache) => cache.addAll([...PRECACHE, ...RUNTIME])));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== VERSION).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

// workbox-window's messageSkipWaiting() (registerServiceWorker().applyUpdate()) sends this.
self.addEventListener('message', (event) => {
  if (event.data?.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname === '/api/token') return; // never cache credentials
  if (event.request.mode === 'navigate' || RUNTIME.includes(url.pathname)) {
    // Network first, so that online users always get the current page and config.
    event.respondWith(
      fetch(event.request)
        .then((response) => {
          const copy = response.clone();
          void caches
            .open(VERSION)
            .then((cache) => cache.put(event.request.mode === 'navigate' ? './' : event.request, copy));
          return response;
        })
        .catch(() => caches.match(event.request.mode === 'navigate' ? './' : event.request)),
    );
    return;
  }
  event.respondWith(caches.match(event.request).then((cached) => cached ?? fetch(event.request)));
});
