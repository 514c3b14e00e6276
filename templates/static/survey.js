// The survey page on a tablet in an orchard: the outbox, position, photos and
// sending are tablet.js; this script adds the survey's own fields, the
// grower's signature and the link to the next claim waiting for a survey.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('survey-config').textContent);
  var claimId = cfg.claim_id;
  var FIELDS = ['damaged_trees', 'affected_mu', 'loss_rate', 'notes', 'grower_signed_name'];
  var CHECKS = ['adjuster_confirmed', 'co_surveyor_confirmed'];
  function $(id) { return document.getElementById(id); }

  function showNext() {
    var box = $('next-claim');
    box.textContent = '';
    var a = document.createElement('a');
    a.className = 'button big';
    if (cfg.next) {
      a.href = '/claims/' + cfg.next.id + '/survey';
      a.id = 'next-claim-link';
      a.textContent = '下一个待查勘：' + cfg.next.claim_no + ' ' + cfg.next.grower_name + '（' + cfg.next.village_name + '）' +
        (cfg.next.clock ? '，' + cfg.next.clock : '');
    } else {
      a.href = '/claims/list?status=dispatched';
      a.className = 'button secondary big';
      a.textContent = '暂无其他待查勘的赔案，返回赔案列表';
    }
    box.appendChild(a);
    box.hidden = false;
  }

  var kit = guobaoTablet({
    cfg: cfg, form: $('survey'), store: 'guobao-survey', owner: 'claim_id', ownerId: claimId,
    draftKey: 'guobao-survey-draft-' + claimId, noun: '查勘结果',
    worker: '/claims/sw.js', scope: '/claims/',
    photosUrl: '/claims/' + claimId + '/photos', submitUrl: '/claims/' + claimId + '/survey.json',
    read: function (draft) {
      FIELDS.forEach(function (f) { draft[f] = $(f).value; });
      CHECKS.forEach(function (f) { draft[f] = $(f).checked; });
    },
    write: function (draft) {
      FIELDS.forEach(function (f) { if (draft[f] !== undefined) $(f).value = draft[f]; });
      CHECKS.forEach(function (f) { if (draft[f] !== undefined) $(f).checked = !!draft[f]; });
    },
    accepted: function (b) {
      kit.showResult('ok', '查勘结果已提交' + (b.created ? '' : '（服务器此前已收到，未重复登记）') +
        '：受灾 ' + $('affected_mu').value + ' 亩，损失率 ' + $('loss_rate').value + '%，计算赔款 ' + b.payout.amount + ' 元');
      showNext();
    }
  });
  var draft = kit.draft;

  // ---------------------------------------------------------------- signature
  var canvas = $('signature'), ctx = canvas.getContext('2d'), drawing = false, last = null;
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  function at(e) {
    var r = canvas.getBoundingClientRect();
    return [(e.clientX - r.left) * canvas.width / r.width, (e.clientY - r.top) * canvas.height / r.height];
  }
  canvas.addEventListener('pointerdown', function (e) { drawing = true; last = at(e); canvas.setPointerCapture(e.pointerId); });
  canvas.addEventListener('pointermove', function (e) {
    if (!drawing) return;
    var p = at(e);
    ctx.strokeStyle = '#111';
    ctx.lineWidth = 4;
    ctx.lineCap = 'round';
    ctx.beginPath();
    ctx.moveTo(last[0], last[1]);
    ctx.lineTo(p[0], p[1]);
    ctx.stroke();
    last = p;
    draft.signed = true;
  });
  function endStroke() {
    if (!drawing) return;
    drawing = false;
    draft.signature = canvas.toDataURL('image/png');
    kit.saveDraft();
  }
  canvas.addEventListener('pointerup', endStroke);
  canvas.addEventListener('pointercancel', endStroke);
  $('clear-signature').addEventListener('click', function () {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    delete draft.signature;
    draft.signed = false;
    kit.saveDraft();
  });
  if (draft.signature) {
    var img = new Image();
    img.onload = function () { ctx.drawImage(img, 0, 0); };
    img.src = draft.signature;
  }

  // ---------------------------------------------------------------- submit
  $('survey').addEventListener('submit', function (e) {
    e.preventDefault();
    kit.saveDraft();
    var missing = [];
    if (draft.lat === undefined) missing.push('请先获取当前位置');
    ['damaged_trees', 'affected_mu', 'loss_rate'].forEach(function (f) { if (!$(f).value.trim()) missing.push('请填写' + $(f).labels[0].textContent); });
    if (!$('adjuster_confirmed').checked || !$('co_surveyor_confirmed').checked) missing.push('双方查勘人员都须确认');
    if (!draft.signature) missing.push('请农户签字');
    if (missing.length) { kit.showResult('bad', missing.join('；')); return; }
    kit.queue({
      client_id: draft.client_id, version: cfg.version, surveyed_at: new Date().toISOString(),
      latitude: draft.lat, longitude: draft.lon, accuracy_m: draft.accuracy,
      damaged_trees: $('damaged_trees').value.trim(), affected_mu: $('affected_mu').value.trim(),
      loss_rate: $('loss_rate').value.trim(), notes: $('notes').value,
      adjuster_confirmed: $('adjuster_confirmed').checked, co_surveyor_confirmed: $('co_surveyor_confirmed').checked,
      grower_signed_name: $('grower_signed_name').value.trim(), grower_signature: draft.signature
    });
  });
})();
