// The inspection page for one sampled plot, on a tablet in an orchard: the
// same machinery as the claims survey page. Everything typed is kept in the
// browser as it is entered (a reload loses nothing); a submission goes into
// an outbox in IndexedDB with its photos and is sent when the network allows.
// The result and every photo carry an id made here, so the server recognises
// a retry and never records anything twice.
(function () {
  'use strict';
  var cfg = JSON.parse(document.getElementById('inspection-config').textContent);
  var form = document.getElementById('inspection');
  var CSRF = form.getAttribute('data-csrf');
  var sampleId = cfg.sample_id;
  var DRAFT_KEY = 'guobao-inspection-draft-' + sampleId;
  var FIELDS = ['area_mu', 'reason', 'notes'];
  function $(id) { return document.getElementById(id); }

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register('/inspection/sw.js', { scope: '/inspection/' }).catch(function () {});
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  // ---------------------------------------------------------------- storage
  var dbPromise = new Promise(function (resolve, reject) {
    var r = indexedDB.open('guobao-inspection', 1);
    r.onupgradeneeded = function () {
      r.result.createObjectStore('photos', { keyPath: 'client_id' });
      r.result.createObjectStore('outbox', { keyPath: 'client_id' });
    };
    r.onsuccess = function () { resolve(r.result); };
    r.onerror = function () { reject(r.error); };
  });
  function call(storeName, mode, fn) {
    return dbPromise.then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(storeName, mode);
        var req = fn(t.objectStore(storeName));
        t.oncomplete = function () { resolve(req ? req.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function put(s, v) { return call(s, 'readwrite', function (st) { return st.put(v); }); }
  function del(s, k) { return call(s, 'readwrite', function (st) { return st.delete(k); }); }
  function mine(s) {
    return call(s, 'readonly', function (st) { return st.getAll(); }).then(function (rows) {
      return rows.filter(function (r) { return r.sample_id === sampleId; });
    });
  }

  var draft = {};
  try { draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || '{}'); } catch (e) { draft = {}; }
  if (!draft.client_id) draft.client_id = newId();
  function outcome() {
    var c = form.querySelector('input[name="outcome"]:checked');
    return c ? c.value : '';
  }
  function showFields() {
    var o = outcome();
    $('area-box').hidden = o !== 'corrected';
    $('reason-box').hidden = o !== 'refused';
  }
  function saveDraft() {
    FIELDS.forEach(function (f) { draft[f] = $(f).value; });
    draft.outcome = outcome();
    localStorage.setItem(DRAFT_KEY, JSON.stringify(draft));
    showFields();
  }
  function restoreDraft() {
    FIELDS.forEach(function (f) { if (draft[f] !== undefined) $(f).value = draft[f]; });
    if (draft.outcome && $('outcome-' + draft.outcome)) $('outcome-' + draft.outcome).checked = true;
    showFields();
  }

  // ---------------------------------------------------------------- status
  function showResult(kind, text) {
    var el = $('result');
    el.hidden = false;
    el.className = 'result ' + kind;
    el.textContent = text;
  }
  // One state for the banner: what the browser says, corrected by what the
  // last send found (a request that could not reach the server means offline
  // whatever navigator.onLine claims; an answer from the server means online).
  var online = navigator.onLine;
  function setOnline(v) { online = v; updateNet(); }
  function updateNet() {
    mine('outbox').then(function (items) {
      var el = $('net');
      var waiting = items.length ? '，' + items.length + '份验标结果待上传' : '';
      if (online) {
        el.className = 'net';
        el.textContent = '网络正常' + waiting;
      } else {
        el.className = 'net offline';
        el.textContent = '当前没有网络：可继续填写和提交，结果保存在本机' + waiting;
      }
    });
  }

  // ---------------------------------------------------------------- GPS
  function ring() {
    var b = cfg.boundary;
    if (!b) return null;
    if (b.type === 'Feature') b = b.geometry;
    if (b && b.type === 'Polygon') return b.coordinates[0];
    if (b && b.type === 'MultiPolygon') return b.coordinates[0][0];
    return null;
  }
  // Same method as the server: a plane tangent at the point, in metres.
  function checkPoint(lon, lat) {
    var pts = ring();
    if (!pts) return null;
    var k = 6371008.8 * Math.PI / 180, c = Math.cos(lat * Math.PI / 180);
    var p = pts.map(function (q) { return [(q[0] - lon) * k * c, (q[1] - lat) * k]; });
    var inside = false, best = Infinity;
    for (var i = 0; i + 1 < p.length; i++) {
      var x1 = p[i][0], y1 = p[i][1], x2 = p[i + 1][0], y2 = p[i + 1][1];
      if ((y1 > 0) !== (y2 > 0) && x1 + (0 - y1) * (x2 - x1) / (y2 - y1) > 0) inside = !inside;
      var dx = x2 - x1, dy = y2 - y1, l2 = dx * dx + dy * dy;
      var t = l2 === 0 ? 0 : Math.max(0, Math.min(1, -(x1 * dx + y1 * dy) / l2));
      var px = x1 + t * dx, py = y1 + t * dy;
      best = Math.min(best, Math.sqrt(px * px + py * py));
    }
    return { inside: inside, distance: inside ? 0 : best };
  }
  function showGps() {
    var el = $('gps'), chk = $('gps-check');
    if (draft.lat === undefined) { el.textContent = '尚未定位'; chk.textContent = ''; chk.className = 'gps-check'; return; }
    el.textContent = '纬度 ' + draft.lat.toFixed(6) + '，经度 ' + draft.lon.toFixed(6) +
      (draft.accuracy ? '，精度约 ' + Math.round(draft.accuracy) + ' 米' : '');
    var r = checkPoint(draft.lon, draft.lat);
    if (!r) { chk.className = 'gps-check near'; chk.textContent = '地块未上传边界，无法核对位置'; }
    else if (r.inside) { chk.className = 'gps-check inside'; chk.textContent = '✓ 位于地块范围内'; }
    else if (r.distance <= cfg.max_distance_m) {
      chk.className = 'gps-check near';
      chk.textContent = '位于地块附近，距边界约 ' + Math.round(r.distance) + ' 米（允许 ' + cfg.max_distance_m + ' 米内）';
    } else {
      chk.className = 'gps-check far';
      chk.textContent = '✗ 距地块约 ' + Math.round(r.distance) + ' 米，超出允许的 ' + cfg.max_distance_m + ' 米，请到地块现场';
    }
  }
  function locate() {
    if (!navigator.geolocation) { $('gps').textContent = '此设备不支持定位'; return; }
    $('gps').textContent = '正在定位…';
    navigator.geolocation.getCurrentPosition(function (pos) {
      draft.lat = pos.coords.latitude;
      draft.lon = pos.coords.longitude;
      draft.accuracy = pos.coords.accuracy;
      saveDraft();
      showGps();
    }, function (err) {
      $('gps').textContent = err.code === 1 ? '无法定位：请允许浏览器使用位置信息' : '无法定位：请到开阔处重试';
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  }

  // ---------------------------------------------------------------- photos
  function renderThumbs() {
    return mine('photos').then(function (photos) {
      var box = $('thumbs');
      box.textContent = '';
      photos.forEach(function (p, i) {
        var d = document.createElement('div');
        d.className = 'thumb';
        var img = document.createElement('img');
        img.alt = '现场照片' + (i + 1);
        img.src = URL.createObjectURL(p.blob);
        d.appendChild(img);
        var cap = document.createElement('div');
        cap.className = 'muted';
        cap.textContent = p.uploaded ? '已上传' : '待上传';
        d.appendChild(cap);
        if (!p.uploaded) {
          var rm = document.createElement('button');
          rm.type = 'button';
          rm.className = 'secondary remove-photo';
          rm.textContent = '删除此照片';
          rm.setAttribute('aria-label', '删除现场照片' + (i + 1));
          rm.addEventListener('click', function () { del('photos', p.client_id).then(renderThumbs); });
          d.appendChild(rm);
        }
        box.appendChild(d);
      });
    });
  }
  $('photo').addEventListener('change', function (e) {
    var files = Array.prototype.slice.call(e.target.files || []);
    Promise.all(files.map(function (f) {
      return guobaoPhotoShrink(f, cfg.photo_max_side).then(function (s) {
        return put('photos', { client_id: newId(), sample_id: sampleId, blob: s.blob, type: s.type, original_sha256: s.original_sha256, uploaded: false });
      });
    })).then(renderThumbs);
    e.target.value = '';
  });

  // ---------------------------------------------------------------- submit and send
  var sending = false;
  function sendPhotos(photos) {
    return photos.reduce(function (chain, p) {
      return chain.then(function () {
        if (p.uploaded) return;
        return fetch('/inspection/samples/' + sampleId + '/photos?client_id=' + encodeURIComponent(p.client_id) +
          (p.original_sha256 ? '&original_sha256=' + p.original_sha256 : ''), {
          method: 'POST', credentials: 'same-origin',
          headers: { 'X-CSRF-Token': CSRF, 'Content-Type': p.type || 'application/octet-stream' },
          body: p.blob
        }).then(function (r) {
          setOnline(true);
          if (r.ok) { p.uploaded = true; return put('photos', p); }
          return r.json().catch(function () { return {}; }).then(function (b) {
            if (r.status >= 500) throw { server: true };
            if (r.status === 401 || b.error === 'csrf_invalid') throw { login: true };
            showResult('bad', '有一张照片未被接受：' + (b.message || r.status));
            return del('photos', p.client_id);
          });
        });
      });
    }, Promise.resolve());
  }
  function describe(b) {
    var r = b.result || {};
    var text = '验标结果已提交' + (b.created ? '' : '（服务器此前已收到，未重复登记）') + '：' + (r.outcome_name || '');
    if (r.area_after_mu) text += '，面积 ' + r.area_before_mu + ' → ' + r.area_after_mu + ' 亩';
    if (b.policy) text += '；保单' + b.policy.policy_no + '投保 ' + b.policy.insured_mu + ' 亩，保费 ' + b.policy.premium + ' 元';
    if (b.note) text += '。' + b.note;
    return text;
  }
  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return mine('outbox').then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return mine('photos').then(sendPhotos).then(function () {
            return fetch('/inspection/samples/' + sampleId + '/result.json', {
              method: 'POST', credentials: 'same-origin',
              headers: { 'X-CSRF-Token': CSRF, 'Content-Type': 'application/json' },
              body: JSON.stringify(item.payload)
            });
          }).then(function (r) {
            setOnline(true);
            return r.json().catch(function () { return {}; }).then(function (b) {
              if (r.ok) {
                return del('outbox', item.client_id).then(function () { return mine('photos'); }).then(function (ps) {
                  return Promise.all(ps.map(function (p) { return del('photos', p.client_id); }));
                }).then(function () {
                  localStorage.removeItem(DRAFT_KEY);
                  form.hidden = true;
                  showResult('ok', describe(b));
                });
              }
              if (r.status >= 500) throw { server: true };
              if (r.status === 401 || b.error === 'csrf_invalid') throw { login: true };
              return del('outbox', item.client_id).then(function () {
                var msgs = (b.fields || []).map(function (f) { return f.message; });
                showResult('bad', '未能提交：' + (msgs.length ? msgs.join('；') : (b.message || r.status)) + '。请修改后重新提交。');
              });
            });
          });
        });
      }, Promise.resolve());
    }).catch(function (err) {
      if (err && err.login) {
        showResult('queued', '登录已过期：请重新登录后回到此页面，已保存的验标结果会自动上传。');
      } else if (err && err.server) {
        showResult('queued', '服务器暂时无法处理：验标结果和照片已保存在本机，稍后自动重试。');
      } else {
        // The request never reached the server: that is being offline.
        online = false;
        showResult('queued', '当前没有网络：验标结果和照片已保存在本机，网络恢复后自动上传。');
      }
    }).then(function () { sending = false; updateNet(); renderThumbs(); });
  }

  form.addEventListener('input', saveDraft);
  form.addEventListener('change', saveDraft);
  $('locate').addEventListener('click', locate);
  form.addEventListener('submit', function (e) {
    e.preventDefault();
    saveDraft();
    var missing = [];
    var o = outcome();
    if (draft.lat === undefined) missing.push('请先获取当前位置');
    if (!o) missing.push('请选择核验结果');
    if (o === 'corrected' && !$('area_mu').value.trim()) missing.push('请填写实测面积');
    if (o === 'refused' && !$('reason').value.trim()) missing.push('请填写不予承保原因');
    if (missing.length) { showResult('bad', missing.join('；')); return; }
    var payload = {
      client_id: draft.client_id, outcome: o, inspected_at: new Date().toISOString(),
      latitude: draft.lat, longitude: draft.lon, accuracy_m: draft.accuracy,
      area_mu: o === 'corrected' ? $('area_mu').value.trim() : null,
      reason: o === 'refused' ? $('reason').value.trim() : '', notes: $('notes').value
    };
    put('outbox', { client_id: payload.client_id, sample_id: sampleId, payload: payload }).then(function () {
      showResult('queued', '已保存在本机，正在上传…');
      return flush();
    });
  });
  window.addEventListener('online', function () { setOnline(true); flush(); });
  window.addEventListener('offline', function () { setOnline(false); });
  setInterval(flush, 15000);

  restoreDraft();
  showGps();
  renderThumbs();
  updateNet();
  mine('outbox').then(function (items) {
    if (items.length) flush(); else if (draft.lat === undefined) locate();
  });
})();
