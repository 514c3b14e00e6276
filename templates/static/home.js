// The adjuster's home: "保存全部查勘页" stores each of their survey pages in the
// survey page's offline cache (the one its service worker, /claims/sw.js, reads
// when there is no signal), so a claim can be opened in the orchard without
// having been opened online first.
(function () {
  'use strict';
  var button = document.getElementById('save-offline');
  var status = document.getElementById('offline-status');
  if (!button) return;
  var CACHE = 'guobao-survey-v1'; // as in survey-sw.js
  var SHELL = ['/claims/survey.js', '/static/app.css'];
  function say(text) { if (status) status.textContent = text; }
  if (!('caches' in window) || !('serviceWorker' in navigator)) {
    button.disabled = true;
    say('此浏览器不支持离线保存');
    return;
  }
  navigator.serviceWorker.register('/claims/sw.js', { scope: '/claims/' }).catch(function () {});
  button.addEventListener('click', function () {
    var urls = (button.getAttribute('data-urls') || '').split(' ').filter(Boolean);
    if (!urls.length) { say('没有需要保存的查勘页'); return; }
    button.disabled = true;
    say('正在保存…');
    caches.open(CACHE).then(function (cache) {
      return Promise.all(urls.concat(SHELL).map(function (u) {
        return fetch(u, { credentials: 'same-origin' }).then(function (resp) {
          if (!resp.ok || resp.redirected) throw new Error(u);
          return cache.put(u, resp);
        });
      }));
    }).then(function () {
      say('已保存 ' + urls.length + ' 个查勘页，没有信号时也能打开');
    }).catch(function () {
      say('保存失败，请在信号好的地方重试');
    }).then(function () { button.disabled = false; });
  });
})();
