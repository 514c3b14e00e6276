// The service worker of a tablet page (the claims survey, the 验标 sample),
// served after that page's own constants: CACHE (its cache, named
// "<family>-v<n>"), SHELL (the script and style the page needs), PAGE (the
// page's own path) and WHAT (the page's name in the offline message). It
// keeps the page and its assets so the person can reopen it with no signal,
// and on a page's request keeps many at once (offline.js).
// Results are queued by the page itself (IndexedDB), never replayed here, so
// nothing is sent twice.

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

// Caches belong to the whole site, not to one worker: a new version removes
// only its own family's older caches, never another page's (an adjuster who
// does both 验标 and 查勘 keeps both pages offline).
const FAMILY = CACHE.replace(/-v\d+$/, '-v');
self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(FAMILY) && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});

function cacheable(url) {
  return PAGE.test(url.pathname) || SHELL.includes(url.pathname);
}

// A page of the site asks to keep these pages for use without a signal
// (offline.js): each is fetched now and cached with the shell, or none is
// reported saved. Only this worker's own pages are taken.
self.addEventListener('message', (event) => {
  const port = event.ports && event.ports[0];
  if (event.data && event.data.forget && port) {
    // After a logout: this worker's pages, every version of its cache.
    event.waitUntil(caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith(FAMILY)).map((k) => caches.delete(k))))
      .then(() => port.postMessage({ forgot: true })));
    return;
  }
  const urls = event.data && event.data.save;
  if (!Array.isArray(urls) || !port) return;
  const paths = urls.map((u) => new URL(u, self.location.origin));
  const ok = paths.every((u) => u.origin === self.location.origin && PAGE.test(u.pathname));
  event.waitUntil(
    (ok ? caches.open(CACHE) : Promise.reject(new Error('not this worker\'s pages')))
      .then((cache) => Promise.all(paths.map((u) => u.pathname).concat(SHELL).map((path) =>
        fetch(path, { credentials: 'same-origin' }).then((resp) => {
          if (!resp.ok || resp.redirected) throw new Error(path);
          return cache.put(path, resp);
        }))))
      .then(() => port.postMessage({ saved: urls.length }), () => port.postMessage({ saved: 0 }))
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || !cacheable(url)) return;
  // Network first, so a person online always sees the current record; the
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
          '<!doctype html><meta charset="utf-8"><p style="font-size:20px">当前没有网络，且本机尚未保存此' + WHAT +
            '页面。请在有信号的地方先打开一次。</p>',
          { status: 503, headers: { 'Content-Type': 'text/html; charset=utf-8' } }
        ))
      )
  );
});
