// Real-browser test of the survey page (查勘定损) on a 10-inch tablet in an orchard
// with no signal: the adjuster opens the page online (the service worker keeps it),
// the position is checked outside and inside the plot, a photo is attached and a
// signature drawn, the network is cut, the page is reloaded (from the service
// worker, with everything typed still there), the survey is submitted into the
// local queue, the network comes back, and the survey arrives exactly once, even
// when the same queue entry is sent a second time.
//
// Also: a photo added by mistake is removed before submitting, the network banner
// shows one truthful state offline, and after the survey arrives the page links
// to the adjuster's next claim (the one with the least time left).
//
// Usage: node tests/browser/survey.mjs <base-url> <password> <claim-id> <api-token> <next-claim-id>
// Run by tests/browser.rs. Needs PW_EXPERIMENTAL_SERVICE_WORKER_NETWORK_EVENTS=1 so
// that cutting the network also cuts the service worker's own requests.

import { MIN_TOUCH, args, begin, check, launch, log, logIn, run, saveForOffline, signalBack, signalLost, tablet, waitFor } from './harness.mjs';
import { createHash } from 'node:crypto';

const [base, password, claimId, token, nextId] = args('survey.mjs', ['base-url', 'password', 'claim-id', 'api-token', 'next-claim-id']);

// The plot: a square of about 100 m × 100 m with its south-west corner here.
const X0 = 99.95, Y0 = 25.65, DX = 100 / 100380, DY = 100 / 110800;
const INSIDE = { latitude: Y0 + DY / 2, longitude: X0 + DX / 2, accuracy: 8 };
const FAR = { latitude: Y0 + DY / 2, longitude: X0 + 900 / 100380, accuracy: 8 };

/** What the server holds for the claim, asked outside the browser. */
async function serverClaim() {
  const r = await fetch(`${base}/api/v1/claims/${claimId}`, { headers: { Authorization: `Bearer ${token}` } });
  check(r.ok, `GET claim answered ${r.status}`);
  return r.json();
}

async function main() {
  const browser = await launch();
  try {
    const { context, page, pageErrors } = await tablet(browser, FAR);

    begin('the 验标 page kept offline earlier on this tablet, and an old survey cache');
    // Caches belong to the site, not to one worker: the survey worker (which
    // the adjuster's home page already registers) must clear only its own
    // older caches, never the 验标 page's.
    await page.goto(`${base}/login`);
    await page.evaluate(() => Promise.all([
      caches.open('guobao-inspection-v1').then((c) => c.put('/inspection/samples/1', new Response('验标页面'))),
      caches.open('guobao-survey-v0').then((c) => c.put('/claims/1/survey', new Response('旧版本'))),
    ]));
    check((await page.evaluate(() => navigator.serviceWorker.getRegistrations())).length === 0, 'a worker before login');

    begin('login as the assigned adjuster');
    await logIn(page, base, 'adjuster', password);

    begin('the home page keeps every survey page for use without a signal');
    const saved = await saveForOffline(page, '查勘页');
    check(saved.includes(`/claims/${nextId}/survey`), `saved ${saved}`);
    await signalLost(context);
    const away = await page.goto(`${base}/claims/${nextId}/survey`);
    check(away && away.fromServiceWorker(), 'with no signal the next survey page did not come from the tablet');
    check(await page.isVisible('#survey'), 'the saved survey page has no form');
    await signalBack(context);

    begin('open the survey page online; the service worker takes it');
    const url = `${base}/claims/${claimId}/survey`;
    const resp = await page.goto(url);
    check(resp && resp.ok(), `GET survey page answered ${resp && resp.status()}`);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => true));
    await page.reload();
    await waitFor(page, () => !!navigator.serviceWorker.controller, null, 'the service worker to control the page');
    log('service worker controls the page');
    // Its activation (which clears old caches) may still be running.
    await waitFor(page, () => navigator.serviceWorker.controller.state === 'activated', null, 'the worker to finish activating');
    const kept = await page.evaluate(() => caches.keys());
    check(kept.includes('guobao-inspection-v1'), `the survey worker removed the 验标 page's cache: ${kept}`);
    check(!kept.includes('guobao-survey-v0'), `the survey worker kept its own old cache: ${kept}`);
    check(kept.includes('guobao-survey-v1'), `no survey cache: ${kept}`);

    begin('position far from the plot is shown as too far');
    // The page asks for the position by itself on first load.
    await waitFor(page, () => document.querySelector('#gps-check').classList.contains('far'), null, 'the far-position warning');
    const farText = await page.locator('#gps-check').innerText();
    check(/超出允许的 100 米/.test(farText), `far text: ${farText}`);
    log(farText);

    begin('position inside the plot');
    await context.setGeolocation(INSIDE);
    await page.click('#locate');
    await waitFor(page, () => document.querySelector('#gps-check').classList.contains('inside'), null, 'the inside-the-plot result');
    log(await page.locator('#gps-check').innerText());

    begin('fill in the loss, attach a photo, sign');
    await page.fill('#damaged_trees', '120');
    await page.fill('#affected_mu', '5');
    await page.fill('#loss_rate', '35');
    await page.check('#adjuster_confirmed');
    await page.check('#co_surveyor_confirmed');
    // A camera-sized photo (3000 × 2250): the page shrinks it to 2048 px before
    // it is kept and sent, with the SHA-256 of this original for the reuse check.
    const photo = Buffer.from(await page.evaluate(() => {
      const c = document.createElement('canvas');
      c.width = 3000; c.height = 2250;
      const g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, 3000, 2250);
      grad.addColorStop(0, '#2a6'); grad.addColorStop(1, '#fc3');
      g.fillStyle = grad; g.fillRect(0, 0, 3000, 2250);
      g.fillStyle = '#830';
      for (let i = 0; i < 400; i++) g.fillRect((i * 137) % 3000, (i * 71) % 2250, 40, 40);
      return c.toDataURL('image/jpeg', 0.92).split(',')[1];
    }), 'base64');
    const photoHash = createHash('sha256').update(photo).digest('hex');
    await page.setInputFiles('#photo', { name: 'hail.jpg', mimeType: 'image/jpeg', buffer: photo });
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'the photo thumbnail');
    begin('a photo added by mistake is removed before submitting');
    const wrong = await page.screenshot({ type: 'png', clip: { x: 0, y: 0, width: 200, height: 120 } });
    await page.setInputFiles('#photo', { name: 'wrong.png', mimeType: 'image/png', buffer: wrong });
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 2, null, 'two thumbnails');
    const removeButtons = page.locator('#thumbs button.remove-photo');
    check(await removeButtons.count() === 2, 'each photo has its remove button');
    const rb = await removeButtons.nth(1).boundingBox();
    check(rb && rb.height >= MIN_TOUCH, `remove button is ${rb && rb.height}px high`);
    // Thumbnails come in IndexedDB key order: remove the 200 px one.
    await waitFor(page, () => Array.from(document.querySelectorAll('#thumbs img')).every((i) => i.naturalWidth > 0), null, 'thumbnails decoded');
    const wrongIdx = await page.evaluate(() => Array.from(document.querySelectorAll('#thumbs img')).findIndex((i) => i.naturalWidth === 200));
    check(wrongIdx >= 0, 'the mistaken photo is not shown');
    await removeButtons.nth(wrongIdx).click();
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'one thumbnail after removal');
    check(await page.locator('#signature-prompt').innerText().then((t) => t.includes('请农户在此签名')), 'no signature prompt');
    check(await page.locator('#due-flag').count() === 1, 'no 24-hour flag on the survey page');
    await page.locator('#signature').scrollIntoViewIfNeeded();
    const box = await page.locator('#signature').boundingBox();
    await page.mouse.move(box.x + 40, box.y + 60);
    await page.mouse.down();
    for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + 40 + i * 30, box.y + 60 + (i % 2) * 50);
    await page.mouse.up();
    await waitFor(page, (k) => !!JSON.parse(localStorage.getItem(k) || '{}').signature, `guobao-survey-draft-${claimId}`, 'the signature in the draft');

    begin('touch targets and width on a 1280×800 tablet');
    const sizes = await page.evaluate(() => Array.from(document.querySelectorAll('main button, main .button, main label.check, main label.check input'))
      .filter((el) => el.getBoundingClientRect().height > 0)
      .map((el) => ({ text: (el.innerText || '').trim().slice(0, 20), h: el.getBoundingClientRect().height })));
    const small = sizes.filter((s) => s.h < MIN_TOUCH);
    check(sizes.length >= 5 && small.length === 0, `small targets: ${JSON.stringify(small)}`);
    const wide = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    check(wide, 'the survey page scrolls sideways');

    begin('signal lost: the page reloads from the service worker with everything kept');
    await context.setOffline(true);
    // Cut the service worker's own requests too, or it would still reach the server.
    await context.route('**', (route) => (route.request().serviceWorker() ? route.abort('internetdisconnected') : route.continue()));
    const offlineLoad = await page.reload();
    check(offlineLoad && offlineLoad.fromServiceWorker(), 'the offline reload was not answered by the service worker');
    check(await page.evaluate(() => !navigator.onLine), 'navigator.onLine is still true');
    await waitFor(page, () => /没有网络/.test(document.querySelector('#net').innerText), null, 'the offline banner');
    const banner = await page.locator('#net').innerText();
    check(!/网络正常/.test(banner) && await page.locator('.net').count() === 1, `banner: ${banner}`);
    const reachable = await page.evaluate(() => fetch('/healthz').then(() => true, () => false));
    check(!reachable, 'the server is still reachable from the page while offline');
    await waitFor(page, () => document.querySelector('#affected_mu') && document.querySelector('#affected_mu').value === '5', null, 'the restored form');
    check(await page.inputValue('#loss_rate') === '35', 'loss rate not restored');
    check(await page.isChecked('#co_surveyor_confirmed'), 'confirmation not restored');
    await waitFor(page, () => document.querySelectorAll('#thumbs img').length === 1, null, 'the restored photo');
    check((await page.locator('#gps-check').getAttribute('class')).includes('inside'), 'position not restored');
    log(await page.locator('#net').innerText());

    begin('submit with no signal: queued on the tablet, nothing on the server');
    await page.click('#submit');
    await waitFor(page, () => document.querySelector('#result').classList.contains('queued') && /保存在本机/.test(document.querySelector('#result').innerText), null, 'the queued message');
    log(await page.locator('#result').innerText());
    const afterFail = await page.locator('#net').innerText();
    check(/没有网络/.test(afterFail) && !/网络正常/.test(afterFail), `banner after a failed send: ${afterFail}`);
    const queued = await page.evaluate(() => new Promise((resolve, reject) => {
      const r = indexedDB.open('guobao-survey', 1);
      r.onsuccess = () => {
        const q = r.result.transaction('outbox').objectStore('outbox').getAll();
        q.onsuccess = () => resolve(q.result.map((x) => x.payload));
        q.onerror = () => reject(q.error);
      };
      r.onerror = () => reject(r.error);
    }));
    check(queued.length === 1, `outbox holds ${queued.length} entries`);
    let claim = await serverClaim();
    check(claim.claim.status === 'dispatched' && claim.surveys.length === 0 && claim.photos.length === 0,
      `server already has something: ${claim.claim.status}, ${claim.surveys.length} surveys`);

    begin('signal back: the queue is sent once');
    await context.unroute('**');
    await context.setOffline(false);
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, () => document.querySelector('#result').classList.contains('ok'), null, 'the sent message');
    const sent = await page.locator('#result').innerText();
    check(sent.includes('1750.00'), `payout not shown: ${sent}`);
    log(sent);
    claim = await serverClaim();
    check(claim.claim.status === 'surveyed', `status ${claim.claim.status}`);
    check(claim.surveys.length === 1, `${claim.surveys.length} surveys on the server`);
    check(claim.photos.length === 1, `${claim.photos.length} photos on the server`);
    const p0 = claim.photos[0];
    check(p0.width === 2048 && p0.height === 1536, `photo sent at ${p0.width} × ${p0.height}, not shrunk to 2048`);
    check(p0.original_sha256 === photoHash && p0.sha256 !== photoHash,
      `original hash ${p0.original_sha256} (want ${photoHash}), stored ${p0.sha256}`);
    check(p0.size_kb * 1024 < photo.length, `sent ${p0.size_kb} KB of a ${photo.length}-byte photo`);
    check(claim.surveys[0].location_check === 'inside', `location ${claim.surveys[0].location_check}`);
    begin('the next claim waiting for this adjuster is offered');
    const next = page.locator('#next-claim-link');
    check(await next.isVisible(), 'no next-claim link after the survey');
    check((await next.getAttribute('href')) === `/claims/${nextId}/survey`, `next link: ${await next.getAttribute('href')}`);
    const nb = await next.boundingBox();
    check(nb.height >= MIN_TOUCH, `next link is ${nb.height}px high`);
    log(await next.innerText());
    check(/网络正常/.test(await page.locator('#net').innerText()), 'banner not back online');

    begin('the same queue entry sent again changes nothing');
    await page.evaluate((payload) => new Promise((resolve, reject) => {
      const r = indexedDB.open('guobao-survey', 1);
      r.onsuccess = () => {
        const t = r.result.transaction('outbox', 'readwrite');
        t.objectStore('outbox').put({ client_id: payload.client_id, claim_id: Number(payload.claim_id_hint), payload });
        t.oncomplete = () => resolve();
        t.onerror = () => reject(t.error);
      };
    }), { ...queued[0], claim_id_hint: claimId });
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(page, () => /此前已收到/.test(document.querySelector('#result').innerText), null, 'the already-received message');
    log(await page.locator('#result').innerText());
    claim = await serverClaim();
    check(claim.surveys.length === 1 && claim.photos.length === 1,
      `after a replay: ${claim.surveys.length} surveys, ${claim.photos.length} photos`);

    begin('logging out makes the tablet forget the pages it kept');
    await Promise.all([
      page.waitForURL((u) => u.pathname === '/login'),
      page.click('header form[action="/logout"] button'),
    ]);
    await waitFor(page, () => !!document.querySelector('[data-forgotten]'), null, 'the workers to forget');
    check(Number(await page.getAttribute('[data-forgotten]', 'data-forgotten')) >= 1, 'no worker was asked to forget');
    const left = await page.evaluate(() => caches.keys());
    check(!left.some((k) => k.startsWith('guobao-survey-')), `survey pages kept after logout: ${left}`);
    log(await page.locator('#signed-out').innerText());
    await signalLost(context);
    const gone = await page.goto(`${base}/claims/${nextId}/survey`);
    check(gone && gone.status() === 503, `with no signal after logout the survey page answered ${gone && gone.status()}`);
    await signalBack(context);

    check(pageErrors.length === 0, `JavaScript errors on the page: ${pageErrors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('survey checks passed');
}

run(main);
