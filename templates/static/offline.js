// "Save for use without a signal" (保存全部查勘页 on the adjuster's home,
// 保存本村验标页 on a village's 验标 page): the button names a tablet page's
// service worker and the pages to keep; the worker fetches them now and puts
// them in the cache it answers from when there is no signal, so each page
// opens in the orchard without having been opened online first. Which cache
// and which pages it may keep are the worker's own (tablet-sw.js). After a
// logout the same workers forget them.
(function () {
  'use strict';
  // After logging out (the login page marks it): every tablet page's worker
  // forgets the pages it kept, so the next person at this device cannot open
  // them without a signal. Results waiting to be sent are not pages: they
  // stay in the outbox and go once someone logs in again.
  var forget = document.querySelector('[data-forget-offline]');
  if (forget && 'serviceWorker' in navigator && window.MessageChannel) {
    navigator.serviceWorker.getRegistrations().then(function (regs) {
      return Promise.all(regs.filter(function (r) { return r.active; }).map(function (r) {
        return new Promise(function (resolve) {
          var channel = new MessageChannel();
          var timer = setTimeout(resolve, 10000);
          channel.port1.onmessage = function () { clearTimeout(timer); resolve(); };
          r.active.postMessage({ forget: true }, [channel.port2]);
        });
      }));
    }).then(function (done) { forget.setAttribute('data-forgotten', String(done.length)); });
  }
  var button = document.getElementById('save-offline');
  var status = document.getElementById('offline-status');
  if (!button) return;
  var noun = button.getAttribute('data-noun') || '页面';
  function say(text) { if (status) status.textContent = text; }
  if (!('caches' in window) || !('serviceWorker' in navigator) || !window.MessageChannel) {
    button.disabled = true;
    say('此浏览器不支持离线保存');
    return;
  }
  // The newest version of the worker, once it is running.
  function running(reg) {
    var w = reg.installing || reg.waiting || reg.active;
    if (!w) return Promise.reject(new Error('no worker'));
    if (w.state === 'activated') return Promise.resolve(w);
    return new Promise(function (resolve, reject) {
      w.addEventListener('statechange', function () {
        if (w.state === 'activated') resolve(w);
        else if (w.state === 'redundant') reject(new Error('redundant'));
      });
    });
  }
  var worker = navigator.serviceWorker
    .register(button.getAttribute('data-worker'), { scope: button.getAttribute('data-scope') })
    .then(running);
  worker.catch(function () {});
  function ask(w, urls) {
    return new Promise(function (resolve, reject) {
      var channel = new MessageChannel();
      var timer = setTimeout(function () { reject(new Error('timeout')); }, 120000);
      channel.port1.onmessage = function (e) {
        clearTimeout(timer);
        if (e.data && e.data.saved === urls.length) resolve(); else reject(new Error('refused'));
      };
      w.postMessage({ save: urls }, [channel.port2]);
    });
  }
  button.addEventListener('click', function () {
    var urls = (button.getAttribute('data-urls') || '').split(' ').filter(Boolean);
    if (!urls.length) { say('没有需要保存的' + noun); return; }
    button.disabled = true;
    say('正在保存…');
    worker.then(function (w) { return ask(w, urls); }).then(function () {
      say('已保存 ' + urls.length + ' 个' + noun + '，没有信号时也能打开');
    }).catch(function () {
      say('保存失败，请在信号好的地方重试');
    }).then(function () { button.disabled = false; });
  });
})();
