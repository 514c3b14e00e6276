// Every page of every role, walked as a new user would, on a desktop (1280×800) and a
// tablet held upright (800×1280). For each role: log in, follow the menu, and from every
// page one link of each kind of record (one grower, one plot, one claim …), then on each
// page check what a person would trip over:
//   - anything that can be tapped (link, button, field, tick box) smaller than 44 px;
//   - a time written as an ISO timestamp ("2026-11-29T17:35:21Z");
//   - internals shown as text: scheme codes, hex plot codes, hashes, API paths,
//     variety codes, a <title> with markup in it;
//   - a key column (th.key) hidden off the edge of a table at 1280 px, or a table that
//     scrolls sideways with no cue and no sticky first column;
//   - the page itself scrolling sideways.
//
// Usage: node tests/browser/walk.mjs <base-url> <password> <user,user,…>
// Run by tests/it/browser.rs over the demo county. Prints every finding, then fails if
// there was any.

import { chromium } from 'playwright-core';

const [base, password, userList] = process.argv.slice(2);
if (!base || !password || !userList) {
  console.error('usage: node walk.mjs <base-url> <password> <user,user,…>');
  process.exit(2);
}
const users = userList.split(',');
const MIN_TOUCH = 44;
const VIEWPORTS = [
  { name: '1280×800', width: 1280, height: 800 },
  { name: '800×1280', width: 800, height: 1280 },
];
const MAX_PAGES_PER_ROLE = 70;

// Paths not walked: downloads, the logout, print views' own print dialog is fine to walk.
const SKIP = [/\.xlsx(\?|$)/, /\.csv(\?|$)/, /\.pdf(\?|$)/, /\/download/, /^\/logout/, /^\/static\//, /\/photos\/\d+/];

// Text that must never reach a user.
const FORBIDDEN = [
  [/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})/, 'ISO timestamp'],
  [/\bwalnut-\d{4}\b/, 'scheme code'],
  [/\b\d{12}-[0-9a-f]{6}-\d{2}\b/, 'hex plot code'],
  [/\b[0-9a-f]{40,64}\b/, 'hash'],
  [/\/api\/v1\//, 'API path'],
  [/\b(early|late)\b/, 'variety code'],
  [/\b(system|expire|policy|grower|plot|claim)\b/, 'English record word'],
];

const findings = [];
function finding(role, vp, url, what) {
  const line = `${role} ${vp} ${url}: ${what}`;
  findings.push(line);
  console.log(`  ✗ ${line}`);
}

/** Path with numbers replaced, so that one page of each kind is walked. */
function kind(path) {
  return path.replace(/\?.*$/, '').replace(/\/\d+/g, '/:id');
}

async function login(page, user) {
  await page.goto(base + '/login');
  await page.fill('input[name=username]', user);
  await page.fill('input[name=password]', password);
  await Promise.all([page.waitForLoadState('load'), page.click('form button[type=submit]')]);
  if (new URL(page.url()).pathname === '/login') {
    throw new Error(`login as ${user} failed`);
  }
}

/** Same-origin GET links of the page, as paths. */
async function links(page) {
  const hrefs = await page.evaluate(() =>
    Array.from(document.querySelectorAll('a[href]'))
      .filter((a) => !a.hasAttribute('download'))
      .map((a) => a.href),
  );
  const out = [];
  for (const h of hrefs) {
    let u;
    try {
      u = new URL(h);
    } catch {
      continue;
    }
    if (u.origin !== new URL(base).origin) continue;
    const path = u.pathname + u.search;
    if (SKIP.some((re) => re.test(path))) continue;
    out.push(path);
  }
  return out;
}

/** Everything the page shows that breaks a rule, measured in the browser. */
async function measure(page) {
  return page.evaluate((min) => {
    const out = { small: [], clipped: [], uncued: [], overflow: 0, text: '', title: document.title };
    const visible = (el) => {
      const r = el.getBoundingClientRect();
      const s = getComputedStyle(el);
      return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none';
    };
    const tappable = document.querySelectorAll(
      'a[href], button, input:not([type=hidden]), select, textarea, summary',
    );
    for (const el of tappable) {
      if (!visible(el)) continue;
      let r = el.getBoundingClientRect();
      // A tick box or radio is tapped through its label when it has one.
      if (el.matches('input[type=checkbox], input[type=radio]')) {
        const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
        if (label && visible(label)) {
          const lr = label.getBoundingClientRect();
          if (lr.height >= r.height && lr.width >= r.width) r = lr;
        }
      }
      if (el.closest('.print-only')) continue;
      if (r.height < min - 0.5 || r.width < min - 0.5) {
        const t = (el.innerText || el.value || el.getAttribute('aria-label') || el.name || el.tagName).trim();
        out.small.push(`${el.tagName.toLowerCase()} "${t.slice(0, 24)}" ${r.width.toFixed(0)}×${r.height.toFixed(0)}`);
      }
    }
    for (const wrap of document.querySelectorAll('.table-wrap')) {
      if (!visible(wrap)) continue;
      const scrolls = wrap.scrollWidth > wrap.clientWidth + 1;
      const wr = wrap.getBoundingClientRect();
      for (const th of wrap.querySelectorAll('th.key')) {
        const r = th.getBoundingClientRect();
        const sticky = getComputedStyle(th).position === 'sticky';
        if (!sticky && (r.right > wr.right + 1 || r.left < wr.left - 1)) {
          out.clipped.push(th.innerText.trim());
        }
      }
      if (scrolls) {
        const first = wrap.querySelector('tbody tr td:first-child, tbody tr th:first-child');
        const sticky = first && getComputedStyle(first).position === 'sticky';
        const cued = wrap.classList.contains('scrolls') && wrap.querySelector('.scroll-cue, caption') !== null
          || wrap.previousElementSibling?.classList.contains('scroll-cue');
        if (!sticky || !cued) {
          const head = wrap.querySelector('th');
          out.uncued.push(`${head ? head.innerText.trim() : 'table'} (sticky ${!!sticky}, cue ${!!cued})`);
        }
      }
    }
    out.overflow = document.documentElement.scrollWidth - window.innerWidth;
    out.text = document.body.innerText;
    return out;
  }, MIN_TOUCH);
}

async function check(page, role, vp, path) {
  const m = await measure(page);
  if (m.small.length) finding(role, vp, path, `tap targets under ${MIN_TOUCH}px: ${m.small.slice(0, 6).join('; ')}${m.small.length > 6 ? ` …(+${m.small.length - 6})` : ''}`);
  if (m.clipped.length) finding(role, vp, path, `key columns clipped: ${m.clipped.join(', ')}`);
  if (m.uncued.length) finding(role, vp, path, `table scrolls sideways without sticky first column and cue: ${m.uncued.join('; ')}`);
  if (m.overflow > 1) finding(role, vp, path, `page scrolls sideways by ${m.overflow}px`);
  if (/[<>]|csrf/i.test(m.title)) finding(role, vp, path, `title has markup: ${m.title.slice(0, 80)}`);
  for (const [re, what] of FORBIDDEN) {
    const hit = m.text.match(re);
    if (hit) finding(role, vp, path, `${what} shown: "${hit[0]}"`);
  }
}

async function walkRole(browser, user) {
  const context = await browser.newContext({ viewport: VIEWPORTS[0], locale: 'zh-CN' });
  const page = await context.newPage();
  await login(page, user);
  const queue = ['/'];
  const seenKinds = new Set(['/']);
  let pages = 0;
  const walked = [];
  while (queue.length && pages < MAX_PAGES_PER_ROLE) {
    const path = queue.shift();
    await page.setViewportSize(VIEWPORTS[0]);
    const resp = await page.goto(base + path);
    const status = resp ? resp.status() : 0;
    const type = resp ? resp.headers()['content-type'] || '' : '';
    if (!type.includes('text/html')) continue;
    pages += 1;
    walked.push(path);
    if (status >= 500 || status === 404) {
      finding(user, '-', path, `answered ${status}`);
      continue;
    }
    if (status === 403) continue; // a link to something this role may not see is a separate check
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      // Let the page's own resize handling (menu, table cues) run first.
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      await check(page, user, vp.name, path);
    }
    for (const next of await links(page)) {
      const k = kind(next);
      if (seenKinds.has(k)) continue;
      seenKinds.add(k);
      queue.push(next);
    }
  }
  console.log(`• ${user}: ${pages} pages walked: ${walked.join(' ')}`);
  await context.close();
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu'],
});
try {
  for (const user of users) await walkRole(browser, user);
} finally {
  await browser.close();
}
if (findings.length) {
  console.log(`${findings.length} findings`);
  process.exit(1);
}
console.log('walk checks passed');
