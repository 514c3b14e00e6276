// The survey page's service worker (scope /claims/): its constants, then
// tablet-sw.js.
const CACHE = 'guobao-survey-v1';
const SHELL = ['/claims/survey.js', '/static/app.css'];
const PAGE = /^\/claims\/\d+\/survey$/;
const WHAT = '查勘';
