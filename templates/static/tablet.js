// Shared by the two pages used on a tablet in an orchard (the claims survey
// and the 验标 sample), served in front of each page's own script. Everything
// typed is kept in the browser as it is entered (a reload or a dead battery
// loses nothing); a submission goes into an outbox in IndexedDB with its
// photos and is sent when the network allows. Every result and photo carries
// an id made here, so the server recognises a retry and never records
// anything twice.
//
// The page gives: o.cfg (boundary, max_distance_m, photo_max_side), o.form,
// o.store (IndexedDB name), o.owner and o.ownerId (the key and value that
// mark this page's rows), o.draftKey, o.noun (what is sent, e.g. 查勘结果),
// o.worker and o.scope (the service worker), o.photosUrl, o.submitUrl,
// o.read(draft) and o.write(draft) (form to draft and back) and
// o.accepted(answer) (what to show once the server has taken the result).
var guobaoTablet = function (o) {
  'use strict';
  function $(id) { return document.getElementById(id); }

  if ('serviceWorker' in navigator) {
    navigator.serviceWorker.register(o.worker, { scope: o.scope }).catch(function () {});
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }

  // ---------------------------------------------------------------- storage
  var dbPromise = new Promise(function (resolve, reject) {
    var r = indexedDB.open(o.store, 1);
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
      return rows.filter(function (r) { return r[o.owner] === o.ownerId; });
    });
  }
  function owned(row) { row[o.owner] = o.ownerId; return row; }

  var draft = {};
  try { draft = JSON.parse(localStorage.getItem(o.draftKey) || '{}'); } catch (e) { draft = {}; }
  if (!draft.client_id) draft.client_id = newId();
  function saveDraft() {
    o.read(draft);
    localStorage.setItem(o.draftKey, JSON.stringify(draft));
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
      var waiting = items.length ? '，' + items.length + '份' + o.noun + '待上传' : '';
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
    var b = o.cfg.boundary;
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
    var el = $('gps'), chk = $('gps-check'), max = o.cfg.max_distance_m;
    if (draft.lat === undefined) { el.textContent = '尚未定位'; chk.textContent = ''; chk.className = 'gps-check'; return; }
    el.textContent = '纬度 ' + draft.lat.toFixed(6) + '，经度 ' + draft.lon.toFixed(6) +
      (draft.accuracy ? '，精度约 ' + Math.round(draft.accuracy) + ' 米' : '');
    var r = checkPoint(draft.lon, draft.lat);
    if (!r) { chk.className = 'gps-check near'; chk.textContent = '地块未上传边界，无法核对位置'; }
    else if (r.inside) { chk.className = 'gps-check inside'; chk.textContent = '✓ 位于地块范围内'; }
    else if (r.distance <= max) {
      chk.className = 'gps-check near';
      chk.textContent = '位于地块附近，距边界约 ' + Math.round(r.distance) + ' 米（允许 ' + max + ' 米内）';
    } else {
      chk.className = 'gps-check far';
      chk.textContent = '✗ 距地块约 ' + Math.round(r.distance) + ' 米，超出允许的 ' + max + ' 米，请到地块现场';
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
      return guobaoPhotoShrink(f, o.cfg.photo_max_side).then(function (s) {
        return put('photos', owned({ client_id: newId(), blob: s.blob, type: s.type, original_sha256: s.original_sha256, uploaded: false }));
      });
    })).then(renderThumbs);
    e.target.value = '';
  });

  // ---------------------------------------------------------------- send
  // An answer that is neither taken nor refused for good: the result stays
  // in the outbox and is sent again.
  function holdOn(r, b) {
    if (r.status >= 500) throw { server: true };
    if (r.status === 401 || b.error === 'csrf_invalid') throw { login: true };
  }
  var sending = false;
  function sendPhotos(photos) {
    return photos.reduce(function (chain, p) {
      return chain.then(function () {
        if (p.uploaded) return;
        return fetch(o.photosUrl + '?client_id=' + encodeURIComponent(p.client_id) +
          (p.original_sha256 ? '&original_sha256=' + p.original_sha256 : ''), {
          method: 'POST', credentials: 'same-origin',
          headers: { 'X-CSRF-Token': o.form.getAttribute('data-csrf'), 'Content-Type': p.type || 'application/octet-stream' },
          body: p.blob
        }).then(function (r) {
          setOnline(true);
          if (r.ok) { p.uploaded = true; return put('photos', p); }
          return r.json().catch(function () { return {}; }).then(function (b) {
            holdOn(r, b);
            // A file the server will never take (not a photo, too large): drop it and say so.
            showResult('bad', '有一张照片未被接受：' + (b.message || r.status));
            return del('photos', p.client_id);
          });
        });
      });
    }, Promise.resolve());
  }
  function flush() {
    if (sending) return Promise.resolve();
    sending = true;
    return mine('outbox').then(function (items) {
      return items.reduce(function (chain, item) {
        return chain.then(function () {
          return mine('photos').then(sendPhotos).then(function () {
            return fetch(o.submitUrl, {
              method: 'POST', credentials: 'same-origin',
              headers: { 'X-CSRF-Token': o.form.getAttribute('data-csrf'), 'Content-Type': 'application/json' },
              body: JSON.stringify(item.payload)
            });
          }).then(function (r) {
            setOnline(true);
            return r.json().catch(function () { return {}; }).then(function (b) {
              if (r.ok) {
                return del('outbox', item.client_id).then(function () { return mine('photos'); }).then(function (ps) {
                  return Promise.all(ps.map(function (p) { return del('photos', p.client_id); }));
                }).then(function () {
                  localStorage.removeItem(o.draftKey);
                  o.form.hidden = true;
                  o.accepted(b);
                });
              }
              holdOn(r, b);
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
        showResult('queued', '登录已过期：请重新登录后回到此页面，已保存的' + o.noun + '会自动上传。');
      } else if (err && err.server) {
        showResult('queued', '服务器暂时无法处理：' + o.noun + '和照片已保存在本机，稍后自动重试。');
      } else {
        // The request never reached the server: that is being offline.
        online = false;
        showResult('queued', '当前没有网络：' + o.noun + '和照片已保存在本机，网络恢复后自动上传。');
      }
    }).then(function () { sending = false; updateNet(); renderThumbs(); });
  }
  // The page has checked the form: keep the result in the outbox, then send.
  function queue(payload) {
    return put('outbox', owned({ client_id: payload.client_id, payload: payload })).then(function () {
      showResult('queued', '已保存在本机，正在上传…');
      return flush();
    });
  }

  o.form.addEventListener('input', saveDraft);
  o.form.addEventListener('change', saveDraft);
  $('locate').addEventListener('click', locate);
  window.addEventListener('online', function () { setOnline(true); flush(); });
  window.addEventListener('offline', function () { setOnline(false); });
  setInterval(flush, 15000);

  o.write(draft);
  showGps();
  renderThumbs();
  updateNet();
  mine('outbox').then(function (items) {
    if (items.length) flush(); else if (draft.lat === undefined) locate();
  });

  return { draft: draft, saveDraft: saveDraft, showResult: showResult, queue: queue };
};
