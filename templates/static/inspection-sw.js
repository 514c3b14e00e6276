// The 验标 sample page's service worker (scope /inspection/): its constants,
// then tablet-sw.js.
const CACHE = 'guobao-inspection-v1';
const SHELL = ['/inspection/inspection.js', '/static/app.css'];
const PAGE = /^\/inspection\/samples\/\d+$/;
const WHAT = '验标';
