// Real-browser bulk issuance on a 10-inch tablet: the underwriter filters the
// 待签发 queue to one township, sees one page of it, ticks "全部符合条件"
// (every page), previews (counts and money checked, nothing issued yet), then
// confirms once and every collected policy of the township is issued.
// "本页" ticks the page's boxes through templates/static/app.js (no inline JS).
//
// Usage: node tests/browser/bulk_issue.mjs <base-url> <password> <township-id> <count>
// Run by tests/it/browser.rs against a seeded server.

import { args, begin, check, launch, open, run, touchTargets } from './harness.mjs';

const [base, password, township, countText] = args('bulk_issue.mjs', ['base-url', 'password', 'township-id', 'count']);
const count = Number(countText);
/** What a finger must be able to tap on these pages. */
const TAPPABLE = 'main button, main .button, main input.pick, main input.pick-page, main input.pick-matching, main select';

const goto = (page, url) => open(page, base + url);

async function main() {
  const browser = await launch();
  try {
    const context = await browser.newContext({
      viewport: { width: 800, height: 1280 },
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });

    begin('the underwriter logs in');
    await goto(page, '/login');
    await page.fill('#username', 'underwriter');
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);

    begin('the queue of one township, one page of two');
    await goto(page, `/policies/queue?township=${township}&page_size=2`);
    const boxes = page.locator('main input.pick');
    check((await boxes.count()) === 2, `expected 2 boxes on the page, got ${await boxes.count()}`);
    const all = await page.locator('.bulk-all').innerText();
    check(all.includes(`共 ${count} 份`), `"all matching" does not say ${count}: ${all}`);
    await touchTargets(page, '待签发', TAPPABLE);

    begin('"本页" ticks the page through app.js');
    await page.locator('main input.pick-page').check();
    const ticked = await page.locator('main input.pick:checked').count();
    check(ticked === 2, `"本页" ticked ${ticked} boxes`);

    begin('"全部符合条件" and the preview');
    await page.locator('#pick-matching').check();
    check(await boxes.first().isDisabled(), 'the page boxes stay active under "all matching"');
    await Promise.all([page.waitForNavigation(), page.click('main form[action="/policies/queue/preview"] button[type=submit]')]);
    const preview = await page.locator('#bulk-outcome').innerText();
    check(preview.includes('预览（尚未签发）'), `no preview: ${preview.slice(0, 300)}`);
    check(preview.includes(`将签发 ${count} 份`), `preview count wrong: ${preview.slice(0, 300)}`);
    const lines = await page.locator('#bulk-lines tbody tr').count();
    check(lines === count, `preview lists ${lines} policies`);
    const premiums = await page.locator('#bulk-lines tbody tr td:nth-child(3)').allInnerTexts();
    const fen = premiums.reduce((s, t) => s + Math.round(Number(t.trim()) * 100), 0);
    const total = preview.match(/保费合计 ([0-9.]+) 元/);
    check(total && Math.round(Number(total[1]) * 100) === fen, `premium total ${total && total[1]} is not the sum of the lines (${fen / 100})`);
    await touchTargets(page, '预览', TAPPABLE);

    begin('one confirmation issues them all');
    await Promise.all([page.waitForNavigation(), page.click('#bulk-outcome form button[type=submit]')]);
    const done = await page.locator('#bulk-outcome').innerText();
    check(done.includes(`已签发 ${count} 份`), `not issued: ${done.slice(0, 300)}`);
    const left = await page.locator('main input.pick').count();
    check(left === 0, `${left} policies still waiting`);

    check(errors.length === 0, `JavaScript or CSP errors: ${errors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('bulk issue checks passed');
}

run(main);
