// The few behaviours of the desk pages, kept out of the pages themselves so
// the Content-Security-Policy needs no 'unsafe-inline' for scripts.
(function () {
  'use strict';
  // A form that asks before it is sent: <form data-confirm="…">.
  document.addEventListener('submit', function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute('data-confirm');
    if (msg && !window.confirm(msg)) e.preventDefault();
  });
  // A form refused by the server shows its errors beside it: bring them into
  // view on long pages (the form's action also anchors to it).
  document.addEventListener('DOMContentLoaded', function () {
    var box = document.querySelector('[data-form-errors]');
    if (box && box.scrollIntoView) box.scrollIntoView({ block: 'center' });
  });
  // The error page's "返回": back where the person came from, else home.
  document.addEventListener('click', function (e) {
    var a = e.target.closest && e.target.closest('a[data-back]');
    if (a && window.history.length > 1) {
      e.preventDefault();
      window.history.back();
    }
  });
  // The claim report form: choosing a plot chooses its policy.
  document.addEventListener('change', function (e) {
    var policy = e.target.getAttribute && e.target.getAttribute('data-policy-id');
    var field = document.getElementById('policy_id');
    if (policy && field) field.value = policy;
  });
})();
// Bulk pages (收费登记, 待签发, 保费交付, 补贴申请): "本页" ticks or clears
// every box of the page; "全部符合条件" greys the boxes out, since the server
// then takes every matching policy, on every page.
(function () {
  'use strict';
  document.addEventListener('change', function (e) {
    var t = e.target;
    if (!t.classList) return;
    var form = t.form;
    if (!form) return;
    var boxes = form.querySelectorAll('input.pick');
    if (t.classList.contains('pick-page')) {
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = t.checked;
    } else if (t.classList.contains('pick-matching')) {
      for (var j = 0; j < boxes.length; j++) boxes[j].disabled = t.checked;
    }
  });
})();
