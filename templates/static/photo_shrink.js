// Shared by the survey and inspection pages (served in front of each script):
// a photo is shrunk on the tablet to the configured longest side before it is
// kept in the outbox and sent, with the SHA-256 of the photo as taken, so the
// server's reuse check still compares originals. Without WebCrypto (a page
// not served over HTTPS) or when the browser cannot decode the photo, the
// original is sent as it is and the server hashes it.
var guobaoPhotoShrink = (function () {
  'use strict';
  function hex(buf) {
    return Array.prototype.map.call(new Uint8Array(buf), function (x) { return ('0' + x.toString(16)).slice(-2); }).join('');
  }
  function sha256(blob) {
    if (!(window.crypto && crypto.subtle && blob.arrayBuffer)) return Promise.resolve(null);
    return blob.arrayBuffer().then(function (b) { return crypto.subtle.digest('SHA-256', b); }).then(hex)
      .catch(function () { return null; });
  }
  function smaller(blob, maxSide) {
    if (!window.createImageBitmap) return Promise.resolve(null);
    return createImageBitmap(blob).then(function (bmp) {
      var side = Math.max(bmp.width, bmp.height);
      if (side <= maxSide) { if (bmp.close) bmp.close(); return null; }
      var k = maxSide / side;
      var c = document.createElement('canvas');
      c.width = Math.max(1, Math.round(bmp.width * k));
      c.height = Math.max(1, Math.round(bmp.height * k));
      c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
      if (bmp.close) bmp.close();
      return new Promise(function (resolve) { c.toBlob(resolve, 'image/jpeg', 0.85); });
    }).catch(function () { return null; });
  }
  // -> {blob, type, original_sha256 (null when the original itself is sent)}
  return function (file, maxSide) {
    var asIs = { blob: file, type: file.type, original_sha256: null };
    return sha256(file).then(function (orig) {
      if (!orig) return asIs;
      return smaller(file, maxSide || 2048).then(function (small) {
        return small ? { blob: small, type: 'image/jpeg', original_sha256: orig } : asIs;
      });
    });
  };
})();
