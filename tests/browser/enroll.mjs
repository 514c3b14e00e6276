// Real-browser walk through the pages a township station uses on a 10-inch tablet:
// log in, dashboard, register a grower (a wrong ID number first), add a plot that is
// not eligible, fix it, check the policy's money, and check the layout for touch use.
//
// Usage: node tests/browser/enroll.mjs <base-url> <password>
// Run by tests/browser.rs against a freshly seeded server. Exits non-zero with a
// message on the first failed check.

import { CHROMIUM, MIN_TOUCH, args, begin, check, launch, log, open, run } from './harness.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [base, password] = args('enroll.mjs', ['base-url', 'password']);

const VIEWPORT = { width: 1280, height: 800 };

const shotDir = fs.mkdtempSync(path.join(os.tmpdir(), 'guobao-browser-'));

/** A valid 18-character ID number (GB 11643): 532999 + birth date + sequence + check. */
function idNumber(birth, seq) {
  const first17 = `532999${birth}${String(seq).padStart(3, '0')}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const chars = '10X98765432';
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * weights[i];
  return first17 + chars[sum % 11];
}

/** The same number with a wrong check character. */
function breakCheck(id) {
  const last = id[17];
  const wrong = last === '0' ? '1' : '0';
  return id.slice(0, 17) + wrong;
}

async function text(page, selector) {
  const loc = page.locator(selector);
  const n = await loc.count();
  check(n > 0, `element ${selector} not found on ${page.url()}`);
  return (await loc.first().innerText()).trim();
}

/** Grower count as the list page states it: "共 N 户". */
async function growerCount(page) {
  await goto(page, '/growers');
  const body = await page.locator('main').innerText();
  const m = body.match(/共\s*(\d+)\s*户/);
  check(m, `grower list shows no "共 N 户" count: ${body.slice(0, 200)}`);
  return Number(m[1]);
}

/** Horizontal overflow of the whole page (would make a tablet user scroll sideways). */
async function overflow(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

/**
 * Touch targets: every visible button / button-styled link / submit in <main> and the
 * main menu links must be at least 44 px tall. The logout button in the header is
 * measured and reported separately (warning only).
 */
async function touchTargets(page, label) {
  const found = await page.evaluate(() => {
    const out = [];
    const seen = new Set();
    const add = (el, kind) => {
      if (seen.has(el)) return;
      seen.add(el);
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (r.width === 0 || r.height === 0 || style.visibility === 'hidden' || style.display === 'none') return;
      out.push({ kind, text: (el.innerText || el.value || '').trim().slice(0, 30), height: r.height, width: r.width });
    };
    document
      .querySelectorAll('main button, main .button, main input[type=submit]')
      .forEach((el) => add(el, 'main'));
    document.querySelectorAll('header nav a').forEach((el) => add(el, 'menu'));
    document.querySelectorAll('header button').forEach((el) => add(el, 'header'));
    return out;
  });
  const fatal = found.filter((b) => b.kind !== 'header');
  check(fatal.length > 0, `${label}: no buttons or menu links found to measure`);
  const small = fatal.filter((b) => b.height < MIN_TOUCH);
  check(
    small.length === 0,
    `${label}: touch targets shorter than ${MIN_TOUCH}px: ` +
      small.map((b) => `${b.kind} "${b.text}" ${b.height.toFixed(1)}px`).join(', '),
  );
  for (const b of found.filter((b) => b.kind === 'header' && b.height < MIN_TOUCH)) {
    log(`WARN ${label}: header button "${b.text}" is ${b.height.toFixed(1)}px tall (< ${MIN_TOUCH}px)`);
  }
  return found;
}

async function shot(page, name) {
  const file = path.join(shotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const goto = (page, url) => open(page, base + url);

async function main() {
  check(fs.existsSync(CHROMIUM), `${CHROMIUM} not found (apt-get install chromium)`);
  const browser = await launch();
  try {
    const context = await browser.newContext({
      viewport: VIEWPORT,
      isMobile: false,
      hasTouch: true,
      locale: 'zh-CN',
      timezoneId: 'Asia/Shanghai',
    });
    context.setDefaultTimeout(15000);
    context.setDefaultNavigationTimeout(20000);
    const page = await context.newPage();
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    page.on('dialog', (d) => {
      pageErrors.push(`unexpected dialog: ${d.message()}`);
      d.dismiss();
    });

    // 1. Log in through the form.
    begin('login as station_a');
    await goto(page, '/login');
    await touchTargets(page, 'login page');
    await page.fill('#username', 'station_a');
    await page.fill('#password', password);
    await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('main form button[type=submit]')]);
    check(new URL(page.url()).pathname === '/', `after login expected /, got ${page.url()}`);

    // 2. Dashboard shows the station's township.
    begin('dashboard shows 甲镇');
    const progress = await text(page, '#progress');
    check(progress.includes('甲镇'), `#progress table does not mention 甲镇: ${progress.slice(0, 300)}`);
    check(!progress.includes('乙乡'), `station_a sees another township (乙乡) in #progress`);

    // 3. Grower form: a wrong ID number is refused in Chinese, then a valid one is saved.
    begin('register grower');
    const before = await growerCount(page);
    const validId = idNumber('19700101', 901);
    const invalidId = breakCheck(validId);
    const name = '浏览器测试户';
    await goto(page, '/growers/new');
    await touchTargets(page, 'grower form');
    const fillGrower = async (id) => {
      await page.fill('#grower-form [name=name]', name);
      await page.fill('#grower-form [name=id_number]', id);
      await page.fill('#grower-form [name=phone]', '13800000000');
      await page.selectOption('#grower-form [name=village_code]', '532999101201');
      await page.fill('#grower-form [name=bank_account]', '6228480000000000001');
    };
    await fillGrower(invalidId);
    await Promise.all([page.waitForURL((u) => u.pathname !== '/growers/new'), page.click('#grower-form button[type=submit]')]);
    check(
      new URL(page.url()).pathname === '/growers',
      `invalid ID number (${invalidId}) was accepted: landed on ${page.url()} instead of the form again`,
    );
    const errorBoxes = page.locator('main .errors, #grower-form .field-error');
    check((await errorBoxes.count()) > 0, `invalid ID number (${invalidId}): no .errors / .field-error shown; url ${page.url()}`);
    const errText = (await errorBoxes.allInnerTexts()).join('\n');
    check(
      /身份证号/.test(errText) && /[\u4e00-\u9fff]{4,}/.test(errText),
      `invalid ID number (${invalidId}): the error shown does not mention 身份证号 in Chinese: ${errText}`,
    );
    check(
      (await page.inputValue('#grower-form [name=name]')) === name,
      'invalid ID number: the form did not keep the typed name',
    );
    log(`error shown: ${errText.replace(/\s+/g, ' ')}`);
    await shot(page, 'grower-form-error');
    const afterInvalid = await growerCount(page);
    check(afterInvalid === before, `grower count changed after an invalid submit: ${before} → ${afterInvalid}`);

    await goto(page, '/growers/new');
    await fillGrower(validId);
    await Promise.all([page.waitForURL(/\/growers\/\d+$/), page.click('#grower-form button[type=submit]')]);
    const growerUrl = new URL(page.url()).pathname;
    check((await text(page, 'main h1')) === name, `grower page heading is not ${name}`);
    check((await text(page, '#id-number')) === validId, `grower page shows ID ${await text(page, '#id-number')}, expected ${validId}`);
    const afterValid = await growerCount(page);
    check(afterValid === before + 1, `grower count after a valid submit is ${afterValid}, expected ${before + 1}`);
    log(`grower saved at ${growerUrl}`);

    // 4. Plot: four-year-old trees are not eligible; five-year-old are.
    begin('add plot (tree age 4)');
    await goto(page, growerUrl);
    await touchTargets(page, 'grower page');
    await Promise.all([page.waitForURL(/\/plots\/new$/), page.getByRole('link', { name: '添加地块', exact: true }).click()]);
    await touchTargets(page, 'plot form');
    await page.selectOption('#plot-form [name=variety]', 'early');
    await page.fill('#plot-form [name=tree_age]', '4');
    await page.fill('#plot-form [name=tree_count]', '30');
    await page.fill('#plot-form [name=fruit_per_tree]', '300');
    await page.fill('#plot-form [name=area_mu]', '3.37');
    await Promise.all([page.waitForURL(/\/plots\/\d+$/), page.click('#plot-form button[type=submit]')]);
    const plotUrl = new URL(page.url()).pathname;
    let verdict = await text(page, '#verdict');
    check(verdict.includes('不符合投保条件'), `#verdict for tree age 4 lacks 不符合投保条件: ${verdict}`);
    check(verdict.includes('树龄不足5年'), `#verdict for tree age 4 lacks 树龄不足5年: ${verdict}`);
    await touchTargets(page, 'plot page');
    await shot(page, 'plot-not-eligible');

    begin('edit plot to tree age 5');
    await Promise.all([page.waitForURL(/\/plots\/\d+\/edit$/), page.getByRole('link', { name: '修改', exact: true }).click()]);
    check(
      (await page.inputValue('#plot-form [name=tree_age]')) === '4',
      'edit form does not show the saved tree age 4',
    );
    await page.fill('#plot-form [name=tree_age]', '5');
    await Promise.all([page.waitForURL((u) => u.pathname === plotUrl), page.click('#plot-form button[type=submit]')]);
    verdict = await text(page, '#verdict');
    check(
      verdict.includes('符合投保条件') && !verdict.includes('不符合'),
      `#verdict for tree age 5 is not 符合投保条件: ${verdict}`,
    );

    // 5. The policy on the grower page carries the right money.
    begin('policy premium');
    await goto(page, growerUrl);
    await shot(page, 'grower');
    const policyLink = page.locator('#policies a[href^="/policies/"]');
    check((await policyLink.count()) === 1, `grower page lists ${await policyLink.count()} policy links, expected 1`);
    await Promise.all([page.waitForURL(/\/policies\/\d+$/), policyLink.click()]);
    const money = {
      premium: await text(page, '#premium'),
      growerShare: await text(page, '#grower-share'),
      subsidy: await text(page, '#subsidy'),
    };
    check(money.premium === '269.60', `#premium is ${money.premium}, expected 269.60`);
    check(money.growerShare === '53.92', `#grower-share is ${money.growerShare}, expected 53.92`);
    check(money.subsidy === '215.68', `#subsidy is ${money.subsidy}, expected 215.68`);
    await touchTargets(page, 'policy page');
    const policyShot = await shot(page, 'policy');

    // 6. Layout on the tablet: no sideways scrolling, big enough buttons.
    begin('dashboard layout at 1280px');
    await goto(page, '/');
    const ov = await overflow(page);
    check(
      ov.scrollWidth <= ov.innerWidth,
      `dashboard overflows horizontally: scrollWidth ${ov.scrollWidth} > innerWidth ${ov.innerWidth}`,
    );
    const targets = await touchTargets(page, 'dashboard');
    log(`dashboard width ${ov.scrollWidth}/${ov.innerWidth}; ${targets.length} touch targets measured`);
    const insured = await text(page, '#total-insured');
    check(insured.startsWith('3.37'), `dashboard #total-insured is ${insured}, expected 3.37`);
    for (const url of [growerUrl, plotUrl, '/growers', '/policies']) {
      await goto(page, url);
      const o = await overflow(page);
      if (o.scrollWidth > o.innerWidth) log(`WARN ${url} overflows horizontally: ${o.scrollWidth} > ${o.innerWidth}`);
    }

    // 7. Screenshot for a person to look at.
    begin('screenshot');
    await goto(page, '/');
    const dashShot = await shot(page, 'dashboard');
    console.log(`screenshot: ${dashShot}`);
    console.log(`screenshot: ${policyShot}`);
    console.log(`more screenshots in ${shotDir}`);

    check(pageErrors.length === 0, `JavaScript errors or dialogs on the pages: ${pageErrors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('browser checks passed');
}

run(main);
