// Real-browser walk through accounts on a 10-inch tablet: the admin creates a
// station account on 账号管理, reads the temporary password shown once, the new
// person logs in, is held on 修改密码 until they choose their own password (a weak
// one refused in Chinese first), then logs out; the copied cookie is dead after.
//
// Usage: node tests/browser/accounts.mjs <base-url> <password>
// Run by tests/it/browser.rs against a freshly seeded server.

import { args, begin, check, launch, noSideScroll, open, run, touchTargets } from './harness.mjs';

const [base, password] = args('accounts.mjs', ['base-url', 'password']);
async function logIn(page, username, pw) {
  await goto(page, '/login');
  await page.fill('#username', username);
  await page.fill('#password', pw);
  await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);
}

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
      // A refused form answers 422 and /favicon.ico is 404: both log "Failed to
      // load resource", which is not an error of the page.
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });

    begin('admin creates an account');
    await logIn(page, 'admin', password);
    await goto(page, '/accounts');
    await touchTargets(page, '账号管理');
    await noSideScroll(page, '账号管理');
    await page.fill('#username', 'clerk9');
    await page.fill('#display_name', '丙站 刘');
    await page.selectOption('#role', 'township');
    await page.selectOption('#township', '532999101');
    await Promise.all([page.waitForNavigation(), page.click('#account-form button[type=submit]')]);
    const flash = await page.locator('.flash').innerText();
    const m = flash.match(/临时密码：([A-Za-z0-9-]{19})/);
    check(m, `no temporary password in the flash: ${flash}`);
    const temp = m[1];
    check((await page.locator('#account-status').innerText()).includes('待本人修改密码'), 'status not shown');
    await touchTargets(page, '账号');
    await noSideScroll(page, '账号');

    begin('admin logs out');
    await Promise.all([page.waitForNavigation(), page.click('header form button[type=submit]')]);
    check(new URL(page.url()).pathname === '/login', `after logout at ${page.url()}`);

    begin('the new person must choose a password first');
    await logIn(page, 'clerk9', temp);
    check(new URL(page.url()).pathname === '/account/password', `first login went to ${page.url()}`);
    await touchTargets(page, '修改密码');
    await goto(page, '/growers');
    check(new URL(page.url()).pathname === '/account/password', `a page let through: ${page.url()}`);
    await page.fill('#current_password', temp);
    await page.fill('#new_password', 'password12345');
    await page.fill('#confirm_password', 'password12345');
    await Promise.all([page.waitForNavigation(), page.click('#password-form button[type=submit]')]);
    const refused = await page.locator('main').innerText();
    check(refused.includes('太容易被猜到'), `weak password not refused in Chinese: ${refused.slice(0, 300)}`);
    const own = 'Yuanbao-walnut-terrace-64';
    await page.fill('#current_password', temp);
    await page.fill('#new_password', own);
    await page.fill('#confirm_password', own);
    await Promise.all([page.waitForNavigation(), page.click('#password-form button[type=submit]')]);
    check(new URL(page.url()).pathname === '/', `after the change at ${page.url()}`);
    check((await page.locator('.flash').innerText()).includes('密码已修改'), 'no confirmation');
    await goto(page, '/growers');

    begin('a cookie copied before logout is dead after it');
    const cookies = await context.cookies();
    await Promise.all([page.waitForNavigation(), page.click('header form button[type=submit]')]);
    await context.addCookies(cookies);
    await page.goto(base + '/growers');
    check(new URL(page.url()).pathname === '/login', `replayed cookie reached ${page.url()}`);

    check(errors.length === 0, `JavaScript or CSP errors: ${errors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('account checks passed');
}

run(main);
