// What every browser test here shares: the steps a run prints and names in
// its failure, the check that stops it, Chromium launched the same way, a
// page load that must answer 2xx, and the exit status tests/it/browser.rs
// reads (0 passed, 1 a check failed, 2 wrong arguments).

import { chromium } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';
/** The smallest a finger can hit reliably, in CSS pixels. */
export const MIN_TOUCH = 44;

let step = 'start';
export class CheckFailed extends Error {}

export function check(cond, message) {
  if (!cond) throw new CheckFailed(`[${step}] ${message}`);
}

export function begin(name) {
  step = name;
  console.log(`• ${name}`);
}

export function log(msg) {
  console.log(`  ${msg}`);
}

/** The script's arguments by name, or its usage and exit 2 when one is missing. */
export function args(script, names) {
  const values = process.argv.slice(2);
  if (names.some((_, i) => !values[i])) {
    console.error(`usage: node ${script} ${names.map((n) => `<${n}>`).join(' ')}`);
    process.exit(2);
  }
  return values;
}

/** Headless Chromium with nothing of its own on the network. */
export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Load `url` (absolute) in `page`; anything but a 2xx answer fails the step. */
export async function open(page, url) {
  const resp = await page.goto(url);
  check(resp && resp.ok(), `GET ${url} answered ${resp && resp.status()}`);
  return resp;
}

/** What a finger must be able to tap in <main> unless a test names its own. */
const TAPPABLE = 'main button, main .button, main input:not([type=hidden]):not([type=checkbox]), main select';

/**
 * Every visible element `selector` finds is at least MIN_TOUCH px tall (a
 * checkbox also that wide), or the step fails naming the small ones.
 */
export async function touchTargets(page, label, selector = TAPPABLE) {
  const small = await page.evaluate(([sel, min]) => {
    const out = [];
    document.querySelectorAll(sel).forEach((el) => {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && (r.height < min || (el.type === 'checkbox' && r.width < min))) {
        const cls = el.className ? `.${el.className}` : '';
        out.push(`${el.tagName.toLowerCase()}${cls}#${el.id || el.name || ''} ${r.width.toFixed(1)}x${r.height.toFixed(1)}px`);
      }
    });
    return out;
  }, [selector, MIN_TOUCH]);
  check(small.length === 0, `${label}: touch targets under ${MIN_TOUCH}px: ${small.join(', ')}`);
}

/** The page is no wider than the screen. */
export async function noSideScroll(page, label) {
  const o = await page.evaluate(() => ({ w: document.documentElement.scrollWidth, v: window.innerWidth }));
  check(o.w <= o.v, `${label} scrolls sideways: ${o.w} > ${o.v}`);
}

/**
 * A 10-inch tablet (1280×800, touch, zh-CN, China time) at `geolocation`,
 * with service workers, and a list that collects the page's script errors
 * and any dialog it opens.
 */
export async function tablet(browser, geolocation) {
  const context = await browser.newContext({
    viewport: { width: 1280, height: 800 },
    hasTouch: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    permissions: ['geolocation'],
    geolocation,
    serviceWorkers: 'allow',
  });
  context.setDefaultTimeout(15000);
  const page = await context.newPage();
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('dialog', (d) => { pageErrors.push(`unexpected dialog: ${d.message()}`); d.dismiss(); });
  return { context, page, pageErrors };
}

/** Sign in through the login page and wait to be taken off it. */
export async function logIn(page, base, username, password) {
  await page.goto(`${base}/login`);
  await page.fill('#username', username);
  await page.fill('#password', password);
  await Promise.all([page.waitForURL((u) => !u.pathname.startsWith('/login')), page.click('main form button[type=submit]')]);
}

/**
 * No signal: the browser offline, and the service worker's own requests cut
 * too (with PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1), or it would
 * still reach the server.
 */
export async function signalLost(context) {
  await context.setOffline(true);
  await context.route('**', (route) => (route.request().serviceWorker() ? route.abort('internetdisconnected') : route.continue()));
}

export async function signalBack(context) {
  await context.unroute('**');
  await context.setOffline(false);
}

/**
 * Press the page's "save for use without a signal" button (offline.js) and
 * wait for its report; the number of pages it names.
 */
export async function saveForOffline(page, noun) {
  const urls = (await page.getAttribute('#save-offline', 'data-urls')).split(' ').filter(Boolean);
  await page.click('#save-offline');
  await waitFor(page, (n) => /已保存|失败|不支持/.test(document.querySelector('#offline-status').innerText), null, 'the saved report');
  const said = await page.locator('#offline-status').innerText();
  check(said.includes(`已保存 ${urls.length} 个${noun}`), `the button said: ${said}`);
  return urls;
}

/**
 * Wait in the page for `fn(arg)` to be true; on a timeout the failure says
 * what the tablet pages' result line and network banner showed.
 */
export async function waitFor(page, fn, arg, what, timeout = 30000) {
  try {
    await page.waitForFunction(fn, arg, { timeout });
  } catch (e) {
    const result = await page.locator('#result').innerText().catch(() => '');
    const net = await page.locator('#net').innerText().catch(() => '');
    throw new CheckFailed(`[${step}] timed out waiting for ${what}; #result="${result}" #net="${net}"`);
  }
}

/** Run the test: a failed check or any other error prints FAILED with its step and exits 1. */
export function run(main) {
  main().catch((e) => {
    const msg = e instanceof CheckFailed ? e.message : `[${step}] ${e && e.stack ? e.stack : e}`;
    console.error(`FAILED ${msg}`);
    process.exit(1);
  });
}
