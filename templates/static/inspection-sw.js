// Service worker for the inspection page (scope /inspection/). Keeps the page
// and its assets so an inspector can reopen it with no signal. Results are
// queued by the page itself (IndexedDB), never replayed here, so nothing is
// sent twice.
const CACHE = 'guobao-inspection-v1';
const SHELL = ['/inspection/inspection.js', '/static/app.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('guobao-inspection') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return /^\/inspection\/samples\/\d+$/.test(url.pathname) || SHELL.includes(url.pathname);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !cacheable(url)) return;
  // Network first, so an inspector online always sees the current sample;
  // the cached copy when the network is gone.
  event.respondWith(
    fetch(req)
      .then((resp) => {
        if (resp.ok && !resp.redirected) {
          const copy = resp.clone();
          caches.open(CACHE).then((c) => c.put(req, copy));
        }
        return resp;
      })
      .catch(() =>
        caches.match(req).then((hit) => hit || new Response(
          '<!doctype html><meta charset="utf-8"><p>当前没有网络，且本机尚未保存此验标页面。请在有信号的地方先打开一次。</p>',
          { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }
        ))
      )
  );
});
