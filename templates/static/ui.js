// Layout behaviours of every desk page (loaded by base.html; no inline scripts
// under the Content-Security-Policy):
//  - on a phone or an upright tablet the main menu starts folded under "菜单";
//  - a table wider than its box says so ("左右滑动查看更多列") and keeps its
//    first column in place (CSS: .table-wrap.scrolls).
(function () {
  'use strict';
  var NARROW = window.matchMedia ? window.matchMedia('(max-width: 900px)') : null;

  function foldMenu() {
    var menu = document.querySelector('header.top details.menu');
    if (!menu || !NARROW) return;
    if (NARROW.matches) menu.removeAttribute('open');
    else menu.setAttribute('open', '');
  }

  function cueTables() {
    var wraps = document.querySelectorAll('.table-wrap');
    for (var i = 0; i < wraps.length; i++) {
      var wrap = wraps[i];
      var scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      var cue = wrap.previousElementSibling;
      var hasCue = cue && cue.classList && cue.classList.contains('scroll-cue');
      wrap.classList.toggle('scrolls', scrolls);
      if (scrolls && !hasCue) {
        cue = document.createElement('div');
        cue.className = 'scroll-cue';
        cue.setAttribute('aria-hidden', 'true');
        cue.textContent = '← 表格较宽，左右滑动查看更多列 →';
        wrap.parentNode.insertBefore(cue, wrap);
      } else if (!scrolls && hasCue) {
        cue.parentNode.removeChild(cue);
      }
    }
  }

  function layout() {
    cueTables();
  }

  foldMenu();
  layout();
  if (NARROW && NARROW.addEventListener) NARROW.addEventListener('change', foldMenu);
  var pending = null;
  window.addEventListener('resize', function () {
    if (pending) window.cancelAnimationFrame(pending);
    pending = window.requestAnimationFrame(layout);
  });
  // A table can grow after load (a <details> opened, a photo decoded).
  document.addEventListener('toggle', layout, true);
})();
// A printable page's "打印" button.
document.addEventListener('click', function (e) {
  var b = e.target.closest && e.target.closest('.print-button');
  if (b) window.print();
});
