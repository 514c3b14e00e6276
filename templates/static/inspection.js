// The inspection (验标) page for one sampled plot, on a tablet in an orchard:
// the outbox, position, photos and sending are tablet.js; this script adds
// the outcome (as declared, corrected area, refused) and its fields.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('inspection-config').textContent);
  var form = document.getElementById('inspection');
  var sampleId = cfg.sample_id;
  var FIELDS = ['area_mu', 'reason', 'notes'];
  function $(id) { return document.getElementById(id); }

  function outcome() {
    var c = form.querySelector('input[name="outcome"]:checked');
    return c ? c.value : '';
  }
  function showFields() {
    var o = outcome();
    $('area-box').hidden = o !== 'corrected';
    $('reason-box').hidden = o !== 'refused';
  }
  function describe(b) {
    var r = b.result || {};
    var text = '验标结果已提交' + (b.created ? '' : '（服务器此前已收到，未重复登记）') + '：' + (r.outcome_name || '');
    if (r.area_after_mu) text += '，面积 ' + r.area_before_mu + ' → ' + r.area_after_mu + ' 亩';
    if (b.policy) text += '；保单' + b.policy.policy_no + '投保 ' + b.policy.insured_mu + ' 亩，保费 ' + b.policy.premium + ' 元';
    if (b.note) text += '。' + b.note;
    return text;
  }

  var kit = guobaoTablet({
    cfg: cfg, form: form, store: 'guobao-inspection', owner: 'sample_id', ownerId: sampleId,
    draftKey: 'guobao-inspection-draft-' + sampleId, noun: '验标结果',
    worker: '/inspection/sw.js', scope: '/inspection/',
    photosUrl: '/inspection/samples/' + sampleId + '/photos',
    submitUrl: '/inspection/samples/' + sampleId + '/result.json',
    read: function (draft) {
      FIELDS.forEach(function (f) { draft[f] = $(f).value; });
      draft.outcome = outcome();
      showFields();
    },
    write: function (draft) {
      FIELDS.forEach(function (f) { if (draft[f] !== undefined) $(f).value = draft[f]; });
      if (draft.outcome && $('outcome-' + draft.outcome)) $('outcome-' + draft.outcome).checked = true;
      showFields();
    },
    accepted: function (b) { kit.showResult('ok', describe(b)); }
  });
  var draft = kit.draft;

  form.addEventListener('submit', function (e) {
    e.preventDefault();
    kit.saveDraft();
    var missing = [];
    var o = outcome();
    if (draft.lat === undefined) missing.push('请先获取当前位置');
    if (!o) missing.push('请选择核验结果');
    if (o === 'corrected' && !$('area_mu').value.trim()) missing.push('请填写实测面积');
    if (o === 'refused' && !$('reason').value.trim()) missing.push('请填写不予承保原因');
    if (missing.length) { kit.showResult('bad', missing.join('；')); return; }
    kit.queue({
      client_id: draft.client_id, outcome: o, inspected_at: new Date().toISOString(),
      latitude: draft.lat, longitude: draft.lon, accuracy_m: draft.accuracy,
      area_mu: o === 'corrected' ? $('area_mu').value.trim() : null,
      reason: o === 'refused' ? $('reason').value.trim() : '', notes: $('notes').value
    });
  });
})();
