// Real-browser check of 农户自助查询 on a grower's phone (360 px wide, touch):
// the login page links to it; the form has large touch targets and no sideways
// scroll; a wrong pair is refused in Chinese; the right pair shows the grower's
// policy, plot and claim, still without sideways scroll, the ID number masked.
//
// Usage: node tests/browser/self.mjs <base-url> <id-number> <phone> <policy-no>
// Run by tests/it/browser.rs against a seeded server with one insured grower.

import { args, begin, check, launch, noSideScroll, run, touchTargets } from './harness.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, idNumber, phone, policyNo] = args('self.mjs', ['base-url', 'id-number', 'phone', 'policy-no']);
/** Text in the result is large enough to read on a phone outdoors. */
async function readable(page, selector, min, label) {
  const size = await page.evaluate((sel) => {
    const el = document.querySelector(sel);
    return el ? parseFloat(getComputedStyle(el).fontSize) : 0;
  }, selector);
  check(size >= min, `${label}: font ${size}px < ${min}px`);
}

/** What a finger must be able to tap on these pages. */
const TAPPABLE = 'main button, main .button, main input:not([type=hidden])';

async function main() {
  const browser = await launch();
  try {
    const context = await browser.newContext({
      viewport: { width: 360, height: 740 },
      deviceScaleFactor: 2,
      isMobile: true,
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

    begin('the login page links to the self-service page');
    await page.goto(base + '/login');
    await noSideScroll(page, '登录');
    await Promise.all([page.waitForNavigation(), page.click('a[href="/self"]')]);
    check(new URL(page.url()).pathname === '/self', `link went to ${page.url()}`);

    begin('the form on a 360 px phone');
    await noSideScroll(page, '查询表单');
    await touchTargets(page, '查询表单', TAPPABLE);
    await readable(page, 'main .self', 16, '查询表单');

    begin('a wrong pair is refused in Chinese');
    await page.fill('#id_number', idNumber);
    await page.fill('#phone', '13900000999');
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    const refused = await page.locator('#self-error').innerText();
    check(refused.includes('身份证号与联系电话不匹配'), `refusal: ${refused}`);
    check(!(await page.content()).includes(idNumber), 'the full ID number is echoed');
    await noSideScroll(page, '查询失败');
    await touchTargets(page, '查询失败', TAPPABLE);

    begin('the right pair shows the grower\'s records');
    await page.fill('#id_number', idNumber);
    await page.fill('#phone', phone);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
    const result = await page.locator('main').innerText();
    check(result.includes(policyNo), `policy ${policyNo} not shown: ${result.slice(0, 400)}`);
    check(result.includes('已签发') && result.includes('一村'), `status or village missing: ${result.slice(0, 400)}`);
    check(!(await page.content()).includes(idNumber), 'the full ID number is shown');
    check(new URL(page.url()).search === '', `the ID went into the URL: ${page.url()}`);
    await noSideScroll(page, '查询结果');
    await touchTargets(page, '查询结果', TAPPABLE);
    await readable(page, 'main dl.pair dd', 16, '查询结果');
    const shotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guobao-self-'));
    const shot = path.join(shotDir, 'self-result.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`screenshot: ${shot}`);

    check(errors.length === 0, `JavaScript or CSP errors: ${errors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('self-service checks passed');
}

run(main);
