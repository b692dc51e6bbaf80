// Browser test of the Knowledge tab and "Save as verified", in Debian's headless Chromium via
// playwright-core (issue 19).
//
//   BASE_URL=http://127.0.0.1:PORT ADMIN_TOKEN=... SCREENSHOT_DIR=/tmp/shots node knowledge.mjs
//
// The server under test must have the admin token ADMIN_TOKEN and a knowledge store of its
// own, and must run queries without asking for approval. Optional: CHROMIUM, TIMEOUT_MS.
// Prints one line per check passed, and "N passed, N failed" last; exits 0 only when all pass.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { fail, failureScreenshot, pass, run, waitFor } from './harness.mjs';

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
const ADMIN_TOKEN = process.env.ADMIN_TOKEN || '';
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || '.';
const TIMEOUT = Number(process.env.TIMEOUT_MS || 30000);
const QUESTION = '지난 30일 프로모 클릭 수';

if (!BASE_URL || !ADMIN_TOKEN) {
  console.error('FAIL: set BASE_URL and ADMIN_TOKEN');
  process.exit(2);
}
fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });

let page;
const browserLog = [];

async function text(selector) {
  return ((await page.locator(selector).first().textContent()) || '').trim();
}

/** Waits for the Knowledge tab's status line to say something of `kind` (ok, error). */
async function knowledgeStatus(kind, what) {
  await waitFor(what, () =>
    page.waitForSelector(`#knowledge-status[data-kind="${kind}"]`, { state: 'visible', timeout: TIMEOUT }),
  );
  return text('#knowledge-status');
}

/** Asks `question` in the chat and waits for its answer to finish. */
async function ask(question, turn) {
  await page.locator('#tab-chat').click();
  await page.fill('#question', question);
  await page.locator('#ask').click();
  await waitFor(`"${question}" did not finish`, () =>
    page.waitForFunction(
      (t) => document.body.dataset.turn === String(t) && ['done', 'error'].includes(document.body.dataset.state),
      turn,
      { timeout: TIMEOUT },
    ),
  );
}

async function teach(fields) {
  await page.selectOption('#teach-kind', fields.kind);
  for (const [selector, value] of Object.entries(fields.inputs)) {
    await page.fill(selector, value);
  }
  await page.locator('#teach-submit').click();
}

async function main() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) fail(`no Chromium at ${executablePath}`);
  const browser = await chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-sync'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'ko-KR' });
    // Teaching is checked by the page's English messages; chat.mjs checks the Korean page.
    await context.addInitScript(() => localStorage.setItem('nlq_lang', 'en'));
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => browserLog.push(`[${msg.type()}] ${msg.text()}`));

    const resp = await page.goto(`${BASE_URL}/`, { waitUntil: 'load', timeout: TIMEOUT });
    if (!resp || !resp.ok()) fail(`GET / answered ${resp ? resp.status() : 'nothing'}`);
    await waitFor('the page did not start', () => page.waitForSelector('body[data-ready="true"]', { timeout: TIMEOUT }));

    // The question is not understood before it is taught.
    await ask(QUESTION, 1);
    if ((await page.locator('#result-table tbody tr').count()) > 0) fail(`"${QUESTION}" was answered before anything was taught`);
    pass(`"${QUESTION}" is not answered before teaching`);

    // a. the tab lists what the model knows, by origin
    await page.locator('#tab-knowledge').click();
    await waitFor('the model entries did not load', () =>
      page.waitForSelector('#model-entries tbody tr[data-name="revenue"][data-origin="model"]', { timeout: TIMEOUT }),
    );
    const entries = await page.locator('#model-entries tbody tr').count();
    pass(`the Knowledge tab lists the model's ${entries} metrics and dimensions with their origin`);

    // b. teaching needs the admin token
    await teach({ kind: 'note', inputs: { '#teach-text': 'Promotions run on the home page.' } });
    const noToken = await knowledgeStatus('error', 'teaching without a token said nothing');
    if (!/admin token/.test(noToken)) fail(`teaching without a token: ${noToken}`);
    pass('teaching without the admin token is refused on the page');

    await page.fill('#admin-token', ADMIN_TOKEN);
    await page.fill('#teacher', 'ann');
    await page.locator('#save-admin').click();
    await knowledgeStatus('ok', 'the admin token was not taken');

    // c. a metric, checked by the server, then listed with who taught it
    await teach({
      kind: 'metric',
      inputs: {
        '#teach-name': 'promo_clicks',
        '#teach-metric-sql': "COUNTIF(event_name = 'select_promotion')",
        '#teach-words': '프로모 클릭, promo clicks',
      },
    });
    const taught = await knowledgeStatus('ok', 'the metric was not taught');
    await waitFor('the taught metric is not listed', () =>
      page.waitForSelector('#lessons tbody tr[data-kind="metric"]', { timeout: TIMEOUT }),
    );
    const row = await text('#lessons tbody tr[data-kind="metric"]');
    if (!row.includes('ann') || !row.includes('promo_clicks')) fail(`the lesson row reads "${row}"`);
    await waitFor('the model does not list promo_clicks as taught', () =>
      page.waitForSelector('#model-entries tbody tr[data-name="promo_clicks"][data-origin="taught"]', { timeout: TIMEOUT }),
    );
    pass(`a metric is taught (${taught.slice(0, 60)}) and listed with its author`);

    // d. a refused lesson shows the reason
    await teach({ kind: 'synonym', inputs: { '#teach-word': '매출', '#teach-means': 'promo_clicks' } });
    const refused = await knowledgeStatus('error', 'a colliding synonym was not refused');
    if (!refused.includes('already means')) fail(`the refusal reads "${refused}"`);
    pass(`a synonym whose word is taken is refused with the reason (${refused.slice(0, 70)})`);

    // e. the next question reads the taught metric, and its answer can be saved as verified
    await ask(QUESTION, 2);
    await waitFor('the taught question has no rows', () =>
      page.waitForSelector('#result-table tbody tr', { timeout: TIMEOUT }),
    );
    const header = await text('#result-table thead');
    if (!header.includes('promo_clicks')) fail(`the answer's columns are "${header}"`);
    pass('the next question is answered with the taught metric, no restart');

    await waitFor('"Save as verified" is not offered', () =>
      page.waitForSelector('#save-verified', { state: 'visible', timeout: TIMEOUT }),
    );
    await page.locator('#save-verified').click();
    await waitFor('saving as verified said nothing', () =>
      page.waitForFunction(() => /verified example k\d+/.test(document.querySelector('#status-message').textContent), null, {
        timeout: TIMEOUT,
      }),
    );
    pass(`"Save as verified" keeps the answer (${await text('#status-message')})`);

    await ask(QUESTION, 3);
    await waitFor('the verified badge is not shown', () =>
      page.waitForSelector('#verified', { state: 'visible', timeout: TIMEOUT }),
    );
    pass(`asked again, the question is answered from the verified example (${await text('#verified')})`);

    // f. lessons are removable; the list follows
    await page.locator('#tab-knowledge').click();
    // The tab reloads the list: the saved example must be in it before counting.
    await waitFor('the saved example is not listed', () =>
      page.waitForSelector('#lessons tbody tr[data-kind="example"]', { timeout: TIMEOUT }),
    );
    const before = await page.locator('#lessons tbody tr').count();
    await page.locator('#lessons tbody tr[data-kind="metric"] [data-testid="remove-lesson"]').click();
    await knowledgeStatus('ok', 'removing said nothing');
    await waitFor('the removed lesson is still listed', () =>
      page.waitForFunction(
        (n) => document.querySelectorAll('#lessons tbody tr').length === n - 1,
        before,
        { timeout: TIMEOUT },
      ),
    );
    pass(`a lesson is removed (${before} → ${before - 1} listed)`);

    if (pageErrors.length) fail(`uncaught errors in the page: ${pageErrors.join(' | ')}`);
    pass('no uncaught page errors');

    const shot = path.join(SCREENSHOT_DIR, 'knowledge.png');
    await page.screenshot({ path: shot, fullPage: true });
    pass(`full-page screenshot at ${shot}`);
  } catch (err) {
    await failureScreenshot(page, SCREENSHOT_DIR, 'knowledge-failure.png');
    throw err;
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main, browserLog);
