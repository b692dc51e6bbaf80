// Browser test of the nlq chat page, in Debian's headless Chromium via playwright-core.
//
//   BASE_URL=http://127.0.0.1:PORT SCREENSHOT_DIR=/tmp/shots node chat.mjs
//
// The server under test must be configured so that every query needs approval.
// Optional: CHROMIUM (browser binary, default /usr/bin/chromium), API_KEY (stored in
// the page's localStorage before it loads), TIMEOUT_MS (per wait, default 30000).
// Prints one line per check passed, and "N passed, N failed" last; exits 0 only when all pass.

import { execSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

import { CheckFailure, fail, failureScreenshot, pass, run, waitFor } from './harness.mjs';

const BASE_URL = (process.env.BASE_URL || '').replace(/\/+$/, '');
const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || '.';
const TIMEOUT = Number(process.env.TIMEOUT_MS || 30000);
const FOLLOW_UP = '그럼 모바일만?';
const CLARIFY = '1월 트렌드 분석';

if (!BASE_URL) {
  console.error('FAIL: set BASE_URL, e.g. BASE_URL=http://127.0.0.1:8080');
  process.exit(2);
}
fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });

let page;
const browserLog = [];

/** Waits until the page's query state (body[data-state]) is one of `states`, for turn `turn`. */
async function waitForState(turn, states, what) {
  await waitFor(what, () =>
    page.waitForFunction(
      ([t, s]) => document.body.dataset.turn === String(t) && s.includes(document.body.dataset.state),
      [turn, states],
      { timeout: TIMEOUT },
    ),
  );
  return page.evaluate(() => document.body.dataset.state);
}

async function text(selector) {
  return ((await page.locator(selector).first().textContent()) || '').trim();
}

async function approveAndWait(turn) {
  await page.locator('#approve').click();
  const state = await waitForState(turn, ['done', 'needs_approval', 'error'], 'the approved query to finish');
  if (state !== 'done') {
    fail(`approved query ended in state "${state}": ${await text('#status-message')}`);
  }
}

async function main() {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!fs.existsSync(executablePath)) fail(`no Chromium at ${executablePath} (apt-get install chromium, or set CHROMIUM)`);
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'ko-KR' });
    if (process.env.API_KEY) {
      await context.addInitScript((key) => localStorage.setItem('nlq_api_key', key), process.env.API_KEY);
    }
    page = await context.newPage();
    page.setDefaultTimeout(TIMEOUT);
    const pageErrors = [];
    page.on('pageerror', (err) => pageErrors.push(String(err)));
    page.on('console', (msg) => browserLog.push(`[${msg.type()}] ${msg.text()}`));
    const streamUrls = [];
    const streamAuth = [];
    page.on('request', (req) => {
      if (req.url().includes('/api/query/stream')) {
        streamUrls.push(req.url());
        streamAuth.push(req.headers()['authorization'] || '');
      }
    });
    const cspViolations = [];
    page.on('console', (msg) => {
      if (/Content Security Policy/i.test(msg.text())) cspViolations.push(msg.text());
    });

    // a. page, demo questions, stream, approval, rows, chart, summary
    let resp;
    try {
      resp = await page.goto(`${BASE_URL}/`, { waitUntil: 'load', timeout: TIMEOUT });
    } catch (err) {
      fail(`cannot load ${BASE_URL}/: ${String(err.message).split('\n')[0]}`);
    }
    if (!resp || !resp.ok()) fail(`GET / answered ${resp ? resp.status() : 'nothing'}`);
    await waitFor('the page did not start (#question, body[data-ready])', () =>
      page.waitForSelector('body[data-ready="true"] #question', { timeout: TIMEOUT }),
    );
    pass('page loads');

    await waitFor('no demo questions appeared in #demo-questions', () =>
      page.waitForSelector('#demo-questions button', { timeout: TIMEOUT }),
    );
    const demoCount = await page.locator('#demo-questions button').count();
    const firstDemo = (await page.locator('#demo-questions button').first().textContent()).trim();
    pass(`demo questions appear (${demoCount})`);

    await page.locator('#demo-questions button').first().click();
    if ((await page.inputValue('#question')).trim() !== firstDemo) fail('clicking a demo question did not fill #question');
    await waitFor('no stage appeared in #stages', () => page.waitForSelector('#stages li', { timeout: TIMEOUT }));
    const state1 = await waitForState(1, ['needs_approval', 'done', 'error'], 'the first answer stream did not finish');
    const stages = await page.locator('#stages > li').evaluateAll((lis) => lis.map((li) => li.dataset.stage));
    if (!stages.includes('done')) fail(`the stream ended without a done stage (stages: ${stages.join(', ')})`);
    pass(`clicking the first demo question streams stages (${stages.join(', ')})`);

    if (state1 !== 'needs_approval') {
      fail(`expected the answer to need approval (the test server must require approval for every query), got state "${state1}": ${await text('#status-message')}`);
    }
    await waitFor('#approve is not visible', () => page.waitForSelector('#approve', { state: 'visible', timeout: TIMEOUT }));
    if (!(await text('#sql'))) fail('#sql is empty before approval');
    if (!(await page.locator('#cost').isVisible()) || !(await text('#cost'))) fail('#cost badge not shown before approval');
    pass(`approval asked, with SQL and cost (${await text('#cost')})`);

    await approveAndWait(1);
    await waitFor('no rows in #result-table after approval', () =>
      page.waitForSelector('#result-table tbody tr', { timeout: TIMEOUT }),
    );
    const rows1 = await page.locator('#result-table tbody tr').count();
    if (rows1 < 1) fail('#result-table has no rows');
    pass(`approve and run shows rows (${rows1} on the first page, ${await text('#page-info')})`);

    await waitFor('no svg chart inside #chart', () => page.waitForSelector('#chart svg', { timeout: TIMEOUT }));
    pass('chart is drawn as svg');

    const summary1 = await text('#summary');
    if (!summary1) fail('#summary is empty');
    pass(`summary is non-empty (${summary1.slice(0, 60)})`);

    // b. follow-up in the same conversation
    await page.fill('#question', FOLLOW_UP);
    await page.locator('#ask').click();
    let state2 = await waitForState(2, ['needs_approval', 'done', 'error'], 'the follow-up stream did not finish');
    if (state2 === 'needs_approval' && (await page.locator('#approve').isVisible())) {
      await approveAndWait(2);
      state2 = 'done';
    }
    const rows2 = await page.locator('#result-table tbody tr').count();
    const status2 = (await page.locator('#status-message').isVisible()) ? await text('#status-message') : '';
    if (rows2 < 1 && !status2) fail(`the follow-up got neither rows nor a status message (state "${state2}")`);
    pass(`follow-up "${FOLLOW_UP}" answered (${rows2 ? `${rows2} rows` : status2})`);

    const followUrl = streamUrls[1] ? new URL(streamUrls[1]) : null;
    if (!followUrl) fail('the follow-up did not open /api/query/stream');
    if (followUrl.searchParams.get('question') !== FOLLOW_UP) fail(`the follow-up stream asked "${followUrl.searchParams.get('question')}"`);
    if (!followUrl.searchParams.get('conversation_id')) fail('the follow-up stream URL has no conversation_id');
    pass(`follow-up carries conversation_id=${followUrl.searchParams.get('conversation_id')}`);

    // The key travels in the Authorization header, never in the stream's URL (issue 20).
    if (streamUrls.some((u) => new URL(u).searchParams.has('access_token'))) fail(`a stream URL carries the key: ${streamUrls[0]}`);
    if (process.env.API_KEY && !streamAuth.every((h) => h === `Bearer ${process.env.API_KEY}`)) {
      fail(`a stream request lacked the Authorization header: ${JSON.stringify(streamAuth)}`);
    }
    pass(`the streams authenticate with a header (${streamAuth.length} requests), not the URL`);

    const historyCount = await page.locator('#history > li').count();
    if (historyCount !== 2) fail(`#history has ${historyCount} entries, expected 2`);
    pass('#history has 2 entries');

    // c. a question without a number asks back with choices; a choice answers it
    await page.locator('#new-conversation').click();
    await page.fill('#question', CLARIFY);
    await page.locator('#ask').click();
    await waitForState(3, ['done', 'error', 'needs_approval'], 'the clarifying stream did not finish');
    await waitFor('no choices appeared in #choices', () =>
      page.waitForSelector('#choices button', { state: 'visible', timeout: TIMEOUT }),
    );
    const choices = await page.locator('#choices button').allTextContents();
    if (choices.length < 3) fail(`expected 3 to 5 choices, got ${JSON.stringify(choices)}`);
    pass(`"${CLARIFY}" asks back with ${choices.length} choices (${choices[0]})`);
    await page.locator('#choices button').first().click();
    let state4 = await waitForState(4, ['needs_approval', 'done', 'error'], 'the chosen question did not finish');
    if (state4 === 'needs_approval' && (await page.locator('#approve').isVisible())) {
      await approveAndWait(4);
      state4 = 'done';
    }
    const rows4 = await page.locator('#result-table tbody tr').count();
    if (rows4 < 1) fail(`the chosen question "${choices[0]}" returned no rows (state "${state4}"): ${await text('#status-message')}`);
    if (await page.locator('#choices').isVisible()) fail('the choices stayed on the page after one was answered');
    pass(`the choice "${choices[0]}" answered with ${rows4} rows`);

    if (pageErrors.length) fail(`uncaught errors in the page: ${pageErrors.join(' | ')}`);
    pass('no uncaught page errors');
    if (cspViolations.length) fail(`the Content-Security-Policy blocked the page: ${cspViolations.join(' | ')}`);
    pass('nothing blocked by the Content-Security-Policy');

    // d. CSV downloads: formulas stay text, numbers stay numbers, Excel gets its BOM
    const csv = await page.evaluate(async () => {
      const app = await import('/static/app.js');
      return app.toCsv([{ name: 'v' }], [['=HYPERLINK("x")'], ['+1+cmd'], ['-2+3'], ['@SUM(A1)'], [-5], ['-5.5'], ['plain']]);
    });
    const expected = '\uFEFFv\r\n"\'=HYPERLINK(""x"")"\r\n\'+1+cmd\r\n\'-2+3\r\n\'@SUM(A1)\r\n-5\r\n-5.5\r\nplain\r\n';
    if (csv !== expected) fail(`CSV formula guard: got ${JSON.stringify(csv)}, expected ${JSON.stringify(expected)}`);
    pass('CSV cells that would run as formulas are written as text');

    // e. the page speaks the browser's language (ko-KR here) and switches to English
    const lang = await page.evaluate(() => document.documentElement.lang);
    if (lang !== 'ko') fail(`a ko-KR browser got the page in "${lang}"`);
    const labels = { '#ask': '질문하기', '#tab-chat': '대화', '#new-conversation': '새 대화' };
    for (const [selector, korean] of Object.entries(labels)) {
      if ((await text(selector)) !== korean) fail(`${selector} reads "${await text(selector)}", expected "${korean}"`);
    }
    const pageInfo = await text('#page-info');
    if (!pageInfo.endsWith('쪽')) fail(`#page-info reads "${pageInfo}" in Korean`);
    // Rates are percentages: a retention table's rate column reads "100%", not "1".
    await page.locator('#new-conversation').click();
    await page.fill('#question', '2020년 12월 주별 코호트 리텐션');
    await page.locator('#ask').click();
    let state5 = await waitForState(5, ['needs_approval', 'done', 'error'], 'the cohort question did not finish');
    if (state5 === 'needs_approval' && (await page.locator('#approve').isVisible())) {
      await approveAndWait(5);
      state5 = 'done';
    }
    const rateHeader = await page.locator('#result-table thead th').allTextContents();
    const rateAt = rateHeader.indexOf('retention_rate');
    if (rateAt < 0) fail(`the cohort table has no retention_rate column: ${rateHeader.join(', ')}`);
    const firstRate = await page.locator(`#result-table tbody tr:first-child td:nth-child(${rateAt + 1})`).textContent();
    if (firstRate.trim() !== '100%') fail(`a cohort's own week reads "${firstRate}", expected "100%"`);
    // Weeks the range cuts (Nov 30 and Dec 28 for December) are marked in the rows.
    await page.fill('#question', '2020년 12월 주별 매출');
    await page.locator('#ask').click();
    let state6 = await waitForState(6, ['needs_approval', 'done', 'error'], 'the weekly question did not finish');
    if (state6 === 'needs_approval' && (await page.locator('#approve').isVisible())) {
      await approveAndWait(6);
      state6 = 'done';
    }
    const cutRows = await page.locator('#result-table tbody tr[data-partial="true"]').allTextContents();
    if (cutRows.length !== 2 || !cutRows.every((r) => r.includes('일부 기간'))) {
      fail(`expected the 2 cut weeks marked "일부 기간", got ${JSON.stringify(cutRows)}`);
    }
    await waitFor('no chart for the weekly series', () => page.waitForSelector('#chart svg', { timeout: TIMEOUT }));
    const cjk = execSync('fc-list :lang=ko family', { encoding: 'utf8' }).trim();
    if (!cjk) fail('no Korean font is installed (scripts/browser-deps.sh installs fonts-noto-cjk)');
    const koShot = path.join(SCREENSHOT_DIR, 'chat-ko.png');
    await page.screenshot({ path: koShot, fullPage: true });
    if (!fs.existsSync(koShot) || fs.statSync(koShot).size === 0) fail(`no screenshot at ${koShot}`);
    pass(`the page speaks Korean (labels, "${pageInfo}", rates as ${firstRate.trim()}, ${cutRows.length} cut weeks marked; font ${cjk.split('\n')[0]}; ${koShot})`);
    await page.selectOption('#lang', 'en');
    if ((await text('#ask')) !== 'Ask' || !(await text('#page-info')).startsWith('page')) {
      fail(`after switching to English #ask reads "${await text('#ask')}", #page-info "${await text('#page-info')}"`);
    }
    if ((await page.evaluate(() => document.documentElement.lang)) !== 'en') fail('the page kept lang="ko" after the switch');
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('body[data-ready="true"] #question', { timeout: TIMEOUT });
    if ((await text('#ask')) !== 'Ask') fail('the English choice did not survive a reload');
    pass('the language switch turns the page English and is remembered');

    // c. screenshot
    const shot = path.join(SCREENSHOT_DIR, 'chat.png');
    await page.screenshot({ path: shot, fullPage: true });
    if (!fs.existsSync(shot) || fs.statSync(shot).size === 0) fail(`no screenshot at ${shot}`);
    pass(`full-page screenshot at ${shot}`);
  } catch (err) {
    if (err instanceof CheckFailure && page && (await page.locator('#api-key-panel').isVisible().catch(() => false))) {
      err.message += ' (the page asked for an API key: set API_KEY for this test)';
    }
    await failureScreenshot(page, SCREENSHOT_DIR, 'chat-failure.png');
    throw err;
  } finally {
    await browser.close().catch(() => {});
  }
}

await run(main, browserLog);
