// Real-browser test of the claim report form (登记报案) on a slow line: the
// search result rows read apart at 800 px and show every key column at 1280 px,
// a double click on the submit button records one claim, and the same form
// posted again (a replay of its single-use token) still leaves one claim.
//
// Usage: node tests/browser/report.mjs <base-url> <password> <api-token> <plot-id>
// Run by tests/it/browser.rs.

import { args, begin, check, launch, run } from './harness.mjs';

const [base, password, token, plotId] = args('report.mjs', ['base-url', 'password', 'api-token', 'plot-id']);

async function claimCount() {
  const r = await fetch(`${base}/api/v1/claims`, { headers: { Authorization: `Bearer ${token}` } });
  check(r.ok, `GET claims answered ${r.status}`);
  return (await r.json()).items.length;
}

async function main() {
  const browser = await launch();
  try {
    const context = await browser.newContext({ viewport: { width: 800, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    context.setDefaultTimeout(15000);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));

    begin('login as the underwriter');
    await page.goto(`${base}/login`);
    await page.fill('#username', 'underwriter');
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('main form button[type=submit]')]);

    begin('the search result at 800 px: one card per plot, nothing off screen');
    await page.goto(`${base}/claims/new?q=${encodeURIComponent('双击报案')}`);
    const card = page.locator(`li.hit:has(#plot-${plotId})`);
    check(await card.count() === 1, 'no card for the plot');
    const text = await card.innerText();
    for (const want of ['地块', '村', '被保险人', '保险期间', '既往报案', '剩余保险金额', '15000.00元']) {
      check(text.includes(want), `card lacks ${want}: ${text}`);
    }
    check(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'the form scrolls sideways at 800 px');
    check(!(await page.locator('main').innerText()).includes('/api/v1'), 'an API path is printed on the page');

    begin('at 1280 px every key field of the row is on screen');
    await page.setViewportSize({ width: 1280, height: 900 });
    const hidden = await card.locator('.hit-f').evaluateAll((els) => els.filter((e) => {
      const r = e.getBoundingClientRect();
      return r.width === 0 || r.height === 0 || r.right > window.innerWidth;
    }).length);
    check(hidden === 0, `${hidden} fields hidden at 1280 px`);

    begin('fill the report; the excluded causes are a group of their own');
    check(await page.locator('fieldset.excluded input[value=drought]').count() === 1, 'drought not among the exclusions');
    check(await page.locator('fieldset.perils input[value=drought]').count() === 0, 'drought among the perils');
    await page.check(`#plot-${plotId}`);
    await page.check('fieldset.perils input[value=hail]');
    await page.fill('#occurred_at', '2012-06-12T14:30');
    await page.fill('#reporter_name', '报案人');
    const pairs = await page.evaluate(() => Array.from(new FormData(document.getElementById('report-form'))));

    begin('a double click on a slow line records one claim');
    let posts = 0;
    await page.route('**/claims', async (route) => {
      if (route.request().method() === 'POST') {
        posts += 1;
        await new Promise((r) => setTimeout(r, 1500));
      }
      await route.continue();
    });
    await Promise.all([page.waitForURL(/\/claims\/\d+$/), page.dblclick('#report-submit')]);
    const landed = page.url();
    check(await claimCount() === 1, 'more than one claim after a double click');
    console.log(`  ${posts} POST(s) sent, landed on ${landed}`);

    begin('the same form posted again answers with the same claim');
    await page.unroute('**/claims');
    const again = await page.evaluate(async (p) => {
      const r = await fetch('/claims', { method: 'POST', body: new URLSearchParams(p), credentials: 'same-origin' });
      return r.url;
    }, pairs);
    check(again === landed, `replay landed on ${again}, not ${landed}`);
    check(await claimCount() === 1, 'a replay of the token made a second claim');

    check(pageErrors.length === 0, `JavaScript errors on the page: ${pageErrors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('report checks passed');
}

run(main);
