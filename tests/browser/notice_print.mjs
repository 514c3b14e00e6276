import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// A village's enrollment notice of 200 households printed to A4 in headless
// Chromium: more than one page, and the table header set to repeat on every
// page (thead as table-header-group under print media). The notice page
// itself is checked for a tablet: touch targets and no sideways scroll.
//
// Usage: node tests/browser/notice_print.mjs <base-url> <password> <notice-id>
// Run by tests/it/browser.rs against a seeded server with the notice made.

import { args, begin, check, launch, noSideScroll, open, run, touchTargets } from './harness.mjs';

const [base, password, id] = args('notice_print.mjs', ['base-url', 'password', 'notice-id']);

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
    context.setDefaultTimeout(20000);
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
    });

    begin('the station logs in');
    await goto(page, '/login');
    await page.fill('#username', 'station_a');
    await page.fill('#password', password);
    await Promise.all([page.waitForNavigation(), page.click('main form button[type=submit]')]);

    begin('the notice page on a tablet');
    await goto(page, `/notices/${id}`);
    const rows = await page.locator('#items tbody tr').count();
    check(rows === 201, `expected 200 households and the totals row, found ${rows} rows`);
    await touchTargets(page, '公示');
    await noSideScroll(page, '公示');
    await goto(page, '/notices');
    await touchTargets(page, '公示列表');
    await noSideScroll(page, '公示列表');

    begin('the printable page');
    await goto(page, `/notices/${id}/print`);
    await page.emulateMedia({ media: 'print' });
    const layout = await page.evaluate(() => {
      const table = document.getElementById('notice-table');
      const thead = table.querySelector('thead');
      return {
        thead: getComputedStyle(thead).display,
        rows: table.querySelectorAll('tbody tr').length,
        header: thead.innerText,
        title: document.querySelector('.notice-title').innerText,
      };
    });
    check(layout.thead === 'table-header-group', `thead displays as ${layout.thead}`);
    check(layout.rows === 200, `printed ${layout.rows} rows`);
    check(layout.header.includes('身份证号') && layout.header.includes('投保面积'), `header: ${layout.header}`);
    check(layout.title.includes('承保公示'), `title: ${layout.title}`);
    const masked = await page.locator('#notice-table tbody tr:first-child td:nth-child(3)').innerText();
    check(/\*{3,}/.test(masked), `ID number not masked: ${masked}`);

    begin('printed to A4');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    const text = pdf.toString('latin1');
    const pages = (text.match(/\/Type\s*\/Page(?![s\w])/g) || []).length;
    check(pages > 1, `the PDF has ${pages} page(s)`);
    // A4 is 595 × 842 points.
    const box = text.match(/\/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]/);
    check(box && Math.abs(parseFloat(box[1]) - 595) < 2 && Math.abs(parseFloat(box[2]) - 842) < 2,
      `page size ${box && box.slice(1).join(' × ')}`);
    console.log(`pdf pages: ${pages}, ${pdf.length} bytes`);
    // Every printed page carries the table header: the PDF's own text, page by
    // page (pdftotext from poppler-utils, which .ci/run installs).
    const dir = mkdtempSync(join(tmpdir(), 'notice-pdf-'));
    const file = join(dir, 'notice.pdf');
    writeFileSync(file, pdf);
    const printed = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const sheets = printed.split('\f').filter((t) => t.trim().length > 0);
    check(sheets.length === pages, `pdftotext read ${sheets.length} pages of ${pages}`);
    sheets.forEach((t, i) => {
      check(t.includes('身份证号') && t.includes('投保面积'), `page ${i + 1} has no table header`);
    });
    check(printed.includes('盖章') || printed.includes('签字'), 'no signature/seal block in the PDF');

    check(errors.length === 0, `JavaScript or CSP errors: ${errors.join(' | ')}`);
    await context.close();
  } finally {
    await browser.close();
  }
  console.log('notice print checks passed');
}

run(main);
