// The claim report form (登记报案): say what picking a row or a cause means
// before it is sent, and send it once. The server holds the real guarantee
// (the form's single-use token records one claim however often it arrives);
// this only keeps a double tap from sending a second copy.
(function () {
  'use strict';
  var form = document.getElementById('report-form');
  if (!form) return;
  var warning = document.getElementById('pick-warning');

  function say() {
    var lines = [];
    var plot = form.querySelector('input[name=plot_id]:checked');
    if (plot && plot.getAttribute('data-used-up')) {
      lines.push('该保单保险金额已赔完：此次报案赔款只能为0元。');
    }
    if (plot && plot.getAttribute('data-earlier')) {
      lines.push('该地块已有' + plot.getAttribute('data-earlier') + '次报案：同一天的损失请勿重复报案。');
    }
    var peril = form.querySelector('input[name=peril]:checked');
    if (peril && peril.getAttribute('data-excluded')) {
      lines.push('“' + peril.getAttribute('data-excluded') + '”属于责任免除：登记时须再次确认，本案将直接拒赔。');
    }
    warning.hidden = lines.length === 0;
    warning.textContent = lines.join(' ');
  }
  form.addEventListener('change', say);
  say();

  var sent = false;
  form.addEventListener('submit', function (e) {
    if (sent) { e.preventDefault(); return; }
    sent = true;
    Array.prototype.forEach.call(form.querySelectorAll('button[type=submit]'), function (b) {
      // A disabled button's own name/value would be lost: keep the one pressed.
      if (e.submitter === b && b.name) {
        var keep = document.createElement('input');
        keep.type = 'hidden';
        keep.name = b.name;
        keep.value = b.value;
        form.appendChild(keep);
      }
      b.disabled = true;
      b.textContent = '正在提交…';
    });
  });
})();
