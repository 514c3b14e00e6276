// Real-browser test of the inspection page (验标) for one sampled plot on a
// 10-inch tablet with no signal: the adjuster opens the page online (the
// service worker keeps it), takes the position inside the plot, chooses "area
// corrected" and types the measured area, attaches a photo, the network is
// cut, the page is reloaded (from the service worker, with everything typed
// still there), the result is submitted into the local queue, the network
// comes back, and the result arrives exactly once, even when the same queue
// entry is sent a second time.
//
// Usage: node tests/browser/inspection.mjs <base-url> <password> <sample-id> <api-token>
// Run by tests/it/browser.rs, with PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1.

import { MIN_TOUCH, args, begin, check, launch, log, logIn, run, saveForOffline, signalBack, signalLost, tablet, waitFor } from './harness.mjs';

const [base, password, sampleId, token] = args('inspection.mjs', ['base-url', 'password', 'sample-id', 'api-token']);

const X0 = 99.95, Y0 = 25.65, DX = 100 / 100380, DY = 100 / 110800;
const INSIDE = { latitude: Y0 + DY / 2, longitude: X0 + DX / 2, accuracy: 8 };

/** The sample as the server holds it, asked outside the browser. */
async function serverSample() {
  const r = await fetch(`${base}/api/v1/inspection/samples/${sampleId}`, { headers: { Authorization: `Bearer ${token}` } });
  check(r.ok, `GET sample answered ${r.status}`);
  return r.json();
}

async function main() {
  const browser = await launch();
  try {
    const { context, page, pageErrors } = await tablet(browser, INSIDE);

    begin('login as the adjuster');
    await logIn(page, base, 'adjuster', password);

    begin('the village page keeps its sample pages for use without a signal');
    const villageId = (await serverSample()).village_id;
    await page.goto(`${base}/inspection/villages/${villageId}`);
    const saved = await saveForOffline(page, '验标页');
    check(saved.length === 1 && saved[0] === `/inspection/samples/${sampleId}`, `saved ${saved}`);
    await signalLost(context);
    const away = await page.goto(`${base}/inspection/samples/${sampleId}`);
    check(away && away.fromServiceWorker(), 'with no signal the sample page did not come from the tablet');
    check(await page.isVisible('#inspection'), 'the saved sample page has no form');
    await signalBack(context);

    begin('open the inspection page online; the service worker takes it');
    const url = `${base}/inspection/samples/${sampleId}`;
    const resp = await page.goto(url);
    check(resp && resp.ok(), `GET inspection page answered ${resp && resp.status()}`);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.reload();
    await waitFor(page, () => !!navigator.serviceWorker.controller, null, 'the service worker to control the page');

    begin('position inside the plot');
    await waitFor(page, () => document.querySelector('#gps-check').classList.contains('inside'), null, 'the inside-the-plot result');
    log(await page.locator('#gps-check').innerText());

    begin('area corrected, a photo attached');
    check(await page.isHidden('#area-box'), 'the area field shows before "面积更正" is chosen');
    await page.check('#outcome-corrected');
    check(await page.isVisible('#area-box'), 'the area field is hidden after "面积更正"');
    await page.fill('#area_mu', '12.5');
    await page.fill('#notes', '实测面积比登记少');
    const photo = await page.screenshot({ type: 'png' });
    await page.setInputFiles('#photo', { name: 'plot.png', mimeType: 'image/png', buffer: photo });
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'the photo thumbnail');
    begin('a photo added by mistake is removed before submitting');
    const wrong = await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 200, height: 120 } });
    await page.setInputFiles('#photo', { name: 'wrong.png', mimeType: 'image/png', buffer: wrong });
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 2, null, 'two thumbnails');
    const removeButtons = page.locator('#thumbs button.remove-photo');
    check(await removeButtons.count() === 2, 'each photo not yet sent has its remove button');
    await waitFor(page, () => Array.from(document.querySelectorAll('#thumbs img')).every((i) => i.naturalWidth > 0), null, 'thumbnails decoded');
    const wrongIdx = await page.evaluate(() => Array.from(document.querySelectorAll('#thumbs img')).findIndex((i) => i.naturalWidth === 200));
    check(wrongIdx >= 0, 'the mistaken photo is not shown');
    await removeButtons.nth(wrongIdx).click();
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'one thumbnail after removal');

    begin('touch targets and width on a 1280×800 tablet');
    const sizes = await page.evaluate(() => Array.from(document.querySelectorAll('main button, main .button, main label.check'))
      .filter((el) => el.getBoundingClientRect().height > 0)
      .map((el) => ({ text: (el.innerText || '').trim().slice(0, 20), h: el.getBoundingClientRect().height })));
    const small = sizes.filter((s) => s.h < MIN_TOUCH);
    check(sizes.length >= 5 && small.length === 0, `small targets: ${JSON.stringify(small)}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check(wide, 'the inspection page scrolls sideways');

    begin('signal lost: the page reloads from the service worker with everything kept');
    await context.setOffline(true);
    await context.route('**', (route) => (route.request().serviceWorker() ? route.abort('internetdisconnected') : route.continue()));
    const offlineLoad = await page.reload();
    check(offlineLoad && offlineLoad.fromServiceWorker(), 'the offline reload was not answered by the service worker');
    await waitFor(page, () => document.querySelector('#area_mu') && document.querySelector('#area_mu').value === '12.5', null, 'the restored form');
    check(await page.isChecked('#outcome-corrected'), 'outcome not restored');
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'the restored photo');

    begin('submit with no signal: queued on the tablet, nothing on the server');
    await page.click('#submit');
    await waitFor(page, () => document.querySelector('#result').classList.contains('queued') && /没有网络/.test(document.querySelector('#result').innerText), null, 'the queued message');
    const queued = await page.evaluate(() => new Promise((resolve, reject) => {
      const r = indexedDB.open('guobao-inspection', 1);
      r.onsuccess = () => {
        const q = r.result.transaction('outbox').objectStore('outbox').getAll();
        q.onsuccess = () => resolve(q.result.map((x) => x.payload));
        q.onerror = () => reject(q.error);
      };
      r.onerror = () => reject(r.error);
    }));
    check(queued.length === 1, `outbox holds ${queued.length} entries`);
    let s = await serverSample();
    check(!s.sample.result && s.sample.photos === 0, `server already has something: ${JSON.stringify(s.sample)}`);

    begin('signal back but the server fails: the result stays on the tablet and the banner says online');
    await context.unroute('**');
    await context.setOffline(false);
    await context.route('**/result.json', (route) => route.fulfill({
      status: 503, contentType: 'application/json',
      body: JSON.stringify({ error: 'database_unavailable', message: '数据库暂时无法连接' }),
    }));
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, () => /服务器暂时无法处理/.test(document.querySelector('#result').innerText), null, 'the server-error message');
    check((await page.locator('#result').getAttribute('class')).includes('queued'), 'a server error is not shown as queued');
    await waitFor(page, () => /网络正常/.test(document.querySelector('#net').innerText), null, 'the banner back online');
    check(/1份验标结果待上传/.test(await page.locator('#net').innerText()), `banner: ${await page.locator('#net').innerText()}`);
    s = await serverSample();
    check(!s.sample.result, `the server recorded a result it answered 503 to: ${JSON.stringify(s.sample)}`);
    await context.unroute('**/result.json');

    begin('the server answers again: the queue is sent once');
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, () => document.querySelector('#result').classList.contains('ok'), null, 'the sent message');
    const sent = await page.locator('#result').innerText();
    check(sent.includes('1000.00'), `new premium not shown: ${sent}`);
    log(sent);
    s = await serverSample();
    check(s.sample.result && s.sample.result.outcome === 'corrected', `result ${JSON.stringify(s.sample.result)}`);
    check(s.sample.photos === 1, `${s.sample.photos} photos on the server`);
    check(s.sample.current_mu === '12.50', `plot area ${s.sample.current_mu}`);

    begin('the same queue entry sent again changes nothing');
    await page.evaluate((payload) => new Promise((resolve, reject) => {
      const r = indexedDB.open('guobao-inspection', 1);
      r.onsuccess = () => {
        const t = r.result.transaction('outbox', 'readwrite');
        t.objectStore('outbox').put({ client_id: payload.client_id, sample_id: Number(payload.sample_hint), payload });
        t.oncomplete = () => resolve();
        t.onerror = () => reject(t.error);
      };
    }), { ...queued[0], sample_hint: sampleId });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, () => /此前已收到/.test(document.querySelector('#result').innerText), null, 'the already-received message');
    s = await serverSample();
    check(s.sample.result && s.sample.photos === 1, `after a replay: ${JSON.stringify(s.sample)}`);

    check(pageErrors.length === 0, `JavaScript errors on the page: ${pageErrors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('inspection checks passed');
}

run(main);
