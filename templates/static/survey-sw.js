// Service worker for the survey page (scope /claims/). Keeps the page and its
// assets so a surveyor can reopen it with no signal. Submissions are queued by
// the page itself (IndexedDB), never replayed here, so nothing is sent twice.
const CACHE = 'guobao-survey-v1';
const SHELL = ['/claims/survey.js', '/static/app.css'];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return /^\/claims\/\d+\/survey$/.test(url.pathname) || SHELL.includes(url.pathname);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !cacheable(url)) return;
  // Network first, so a surveyor online always sees the current claim; the
  // cached copy when the network is gone.
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
          '<!doctype html><meta charset="utf-8"><p style="font-size:20px">当前没有网络，且本机尚未保存此查勘页面。请在有信号的地方先打开一次。</p>',
          { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }
        ))
      )
  );
});
