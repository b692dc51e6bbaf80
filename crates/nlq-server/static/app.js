// nlq chat page: plain ES module, no build step. Talks to the nlq-server HTTP API
// (docs/api.md). Server text is only ever inserted with textContent / DOM nodes.

import { $, el, append, clear } from './dom.js';
import { loadKnowledge, saveAsVerified, setupKnowledge } from './knowledge.js';
import { applyStatic, formatDate, formatNumber, formatPercent, pageText, rowsText, setLang, t } from './i18n.js';

const PAGE_SIZE = 25;
const KEY_STORAGE = 'nlq_api_key';

// ---------- small helpers ----------

const SVG_NS = 'http://www.w3.org/2000/svg';
function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  }
  append(node, children);
  return node;
}

/** Bytes in binary units, as the server's approval messages write them (GiB). */
export function formatBytes(n) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '?';
  let v = Number(n);
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v >= 100 ? 0 : 1)} ${units[i]}`;
}

export function formatUsd(usd) {
  const v = Number(usd);
  if (!Number.isFinite(v)) return '$?';
  if (v === 0) return '$0';
  if (v < 0.01) return `$${v.toPrecision(2)}`;
  return `$${v.toFixed(2)}`;
}

function costText(cost) {
  if (!cost) return '';
  let text = `${formatBytes(cost.bytes_billed)} billed · ${formatUsd(cost.usd)}`;
  // `local` is [currency, amount] when the server has a second currency configured.
  if (Array.isArray(cost.local) && cost.local.length === 2 && Number.isFinite(Number(cost.local[1]))) {
    const [code, amount] = cost.local;
    text += ` · ${Number(amount).toLocaleString(undefined, { maximumFractionDigits: 2 })} ${code}`;
  }
  return text;
}

const NUMERIC_TYPES = new Set(['INT64', 'INTEGER', 'FLOAT64', 'FLOAT', 'NUMERIC', 'BIGNUMERIC', 'DECIMAL', 'BIGDECIMAL']);
const isNumericType = (t) => NUMERIC_TYPES.has(String(t || '').toUpperCase());

/**
 * Fractions the answers carry (`engagement_rate`, `retention_rate`, `sessions_change`,
 * `share_of_purchases`) read as percentages; `_pct` columns are already percentages.
 */
const FRACTION_COLUMN = /(^|_)(rate|change|share_of_[a-z_]+)$/;
const PERCENT_COLUMN = /_pct$/;

function cellText(value, type, column = '') {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  if (typeof value === 'number' && isNumericType(type)) {
    if (FRACTION_COLUMN.test(column)) return formatPercent(value);
    if (PERCENT_COLUMN.test(column)) return `${formatNumber(value, 1)}%`;
    return formatNumber(value);
  }
  if (String(type || '').toUpperCase() === 'DATE') return formatDate(value);
  return String(value);
}

/**
 * One CSV field, RFC 4180: quoted when it holds a quote, comma, CR or LF; quotes doubled. A text
 * a spreadsheet would run as a formula (=, +, -, @, tab or CR first, and not a plain number) gets
 * a leading apostrophe: a product name or a page title is data, never a formula.
 */
export function csvField(value) {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s) && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
    s = `'${s}`;
  }
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** The whole CSV text, with a UTF-8 BOM so Excel reads Korean correctly, CRLF line ends. */
export function toCsv(columns, rows) {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const row of rows) lines.push(row.map(csvField).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

// ---------- API access ----------

class ApiError extends Error {
  constructor(status, body) {
    const err = (body && body.error) || {};
    super(err.message || `HTTP ${status}`);
    this.status = status;
    this.code = err.code || `http_${status}`;
    this.requestId = err.request_id || null;
    this.body = body;
  }
}

function apiKey() {
  try {
    return localStorage.getItem(KEY_STORAGE) || '';
  } catch {
    return '';
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { Accept: 'application/json' };
  const key = apiKey();
  if (key) headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  const text = await resp.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!resp.ok) {
    const error = new ApiError(resp.status, data);
    if (resp.status === 401) showKeyPanel(error.message);
    throw error;
  }
  return data;
}

function errorText(err) {
  if (err instanceof ApiError) {
    const rid = err.requestId ? ` (request ${err.requestId})` : '';
    return `${err.code}: ${err.message}${rid}`;
  }
  return String((err && err.message) || err);
}

// ---------- API key panel ----------

let afterKeySaved = null;

function showKeyPanel(message) {
  const panel = $('#api-key-panel');
  panel.hidden = false;
  if (message) panel.querySelector('label').textContent = `This server needs an API key (${message}).`;
  $('#api-key').focus();
}

function setupKeyPanel() {
  $('#api-key').value = apiKey();
  $('#show-key').addEventListener('click', () => {
    const panel = $('#api-key-panel');
    panel.hidden = !panel.hidden;
  });
  $('#api-key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#api-key').value.trim();
    try {
      if (key) localStorage.setItem(KEY_STORAGE, key);
      else localStorage.removeItem(KEY_STORAGE);
    } catch {
      /* storage may be disabled; the key then lives for this page only */
    }
    $('#api-key-panel').hidden = true;
    loadDemoQuestions();
    loadSegments();
    if (afterKeySaved) {
      const retry = afterKeySaved;
      afterKeySaved = null;
      retry();
    }
  });
  $('#clear-key').addEventListener('click', () => {
    try {
      localStorage.removeItem(KEY_STORAGE);
    } catch {
      /* ignore */
    }
    $('#api-key').value = '';
  });
}

// ---------- tabs ----------

function setupTabs() {
  const tabs = [
    ['#tab-chat', '#view-chat'],
    ['#tab-flow', '#view-flow'],
    ['#tab-knowledge', '#view-knowledge'],
  ];
  for (const [tab, view] of tabs) {
    $(tab).addEventListener('click', () => {
      for (const [t, v] of tabs) {
        const on = t === tab;
        $(t).classList.toggle('active', on);
        $(t).setAttribute('aria-selected', String(on));
        $(v).hidden = !on;
      }
      if (tab === '#tab-flow' && !$('#flow-segment').options.length) loadSegments();
      if (tab === '#tab-knowledge') loadKnowledge();
    });
  }
}

// ---------- chat state ----------

const state = {
  conversationId: null,
  turns: [], // {question, response, li}
  current: null, // the turn being shown
  source: null, // the open AnswerStream
  table: { columns: [], rows: [], page: 0, qid: null },
  chartSpec: null,
  summaryText: '',
  turnCounter: 0,
};

function setState(s) {
  document.body.dataset.state = s;
  const busy = s === 'streaming' || s === 'running';
  $('#ask').disabled = busy;
  $('#approve').disabled = s === 'running';
}

function setStatus(kind, text) {
  const box = $('#status-message');
  if (!text) {
    box.hidden = true;
    box.textContent = '';
    box.className = 'status';
    delete box.dataset.kind;
    return;
  }
  box.hidden = false;
  box.className = `status status-${kind}`;
  box.dataset.kind = kind;
  box.textContent = text;
}

/** A clarification's choices: each button asks its complete question. */
function showChoices(choices) {
  const box = $('#choices');
  clear(box);
  box.hidden = !Array.isArray(choices) || !choices.length;
  for (const choice of choices || []) {
    const button = document.createElement('button');
    button.type = 'button';
    button.className = 'choice';
    button.textContent = choice;
    button.dataset.testid = 'choice';
    button.addEventListener('click', () => {
      $('#question').value = choice;
      ask(choice);
    });
    box.appendChild(button);
  }
}

function resetAnswer() {
  clear($('#stages'));
  $('#sql').textContent = '';
  $('#copy-sql').disabled = true;
  const cost = $('#cost');
  cost.hidden = true;
  cost.textContent = '';
  $('#approval').hidden = true;
  $('#approval-reason').textContent = '';
  delete $('#approve').dataset.qid;
  $('#summary').textContent = '';
  clear($('#caveats'));
  $('#caveats').hidden = true;
  $('#verified').hidden = true;
  $('#save-verified').hidden = true;
  delete $('#save-verified').dataset.qid;
  state.summaryText = '';
  clearChart();
  renderTable([], [], null);
  setStatus(null, null);
  showChoices([]);
}

// ---------- progress list ----------

let streamStart = 0;

/** One line of the progress list; `ok` is true, false (failed) or 'warn' (needs attention). */
function addStage(stage, label, detail, ok = true) {
  const ms = Math.round(performance.now() - streamStart);
  const kind = ok === 'warn' ? 'warn' : ok ? 'ok' : 'failed';
  const mark = { ok: '✓', failed: '✗', warn: '!' }[kind];
  const li = el(
    'li',
    { class: `stage ${kind}`, dataset: { stage, outcome: kind } },
    el('span', { class: 'stage-mark', 'aria-hidden': 'true' }, mark),
    el('span', { class: 'stage-name' }, t(label)),
    el('span', { class: 'stage-detail', title: detail || null }, detail || ''),
    el('span', { class: 'stage-ms' }, `${ms} ms`),
  );
  const list = $('#stages');
  list.append(li);
  list.scrollTop = list.scrollHeight;
  return li;
}

function findingText(f) {
  if (f === null || f === undefined) return '';
  if (typeof f !== 'object') return String(f);
  const head = [f.severity, f.rule].filter(Boolean).join(' ');
  return head ? `${head}: ${f.message || ''}` : f.message || JSON.stringify(f);
}

// ---------- rendering an answer ----------

function showSql(sql) {
  $('#sql').textContent = sql || '';
  $('#copy-sql').disabled = !sql;
}

function showCost(cost) {
  const badge = $('#cost');
  if (!cost) return;
  badge.textContent = costText(cost);
  badge.title = `bytes processed: ${cost.bytes_processed ?? '?'}, bytes billed: ${cost.bytes_billed ?? '?'}`;
  badge.hidden = false;
}

function showApproval(qid, reason) {
  $('#approval').hidden = false;
  $('#approval-reason').textContent = reason || t('This query needs your approval before it runs.');
  $('#approve').dataset.qid = qid || '';
}

const STATUS_TEXT = {
  refused: 'Refused',
  clarify: 'Please clarify',
  out_of_scope: 'Out of scope',
  needs_llm: 'Needs the LLM path',
  error: 'Error',
  needs_approval: 'Needs approval',
};

/** Renders a whole QueryResponse (the `done` event, or POST /api/query/run). */
function renderResponse(resp) {
  if (!resp) return;
  if (resp.conversation_id) state.conversationId = resp.conversation_id;
  if (resp.sql) showSql(resp.sql);
  if (resp.cost) showCost(resp.cost);

  if (resp.status === 'needs_approval' || resp.needs_approval) {
    showApproval(resp.qid, resp.approval_reason || resp.message);
  } else {
    $('#approval').hidden = true;
  }

  if (Array.isArray(resp.columns) && resp.columns.length && Array.isArray(resp.rows)) {
    renderTable(resp.columns, resp.rows, resp.qid, resp.partial_buckets);
  }
  if (resp.summary) {
    state.summaryText = resp.summary;
    $('#summary').textContent = resp.summary;
  }
  // What to know about the data behind the numbers: days with no table, a day still coming in.
  const caveats = Array.isArray(resp.caveats) ? resp.caveats : [];
  clear($('#caveats'));
  $('#caveats').append(...caveats.map((c) => el('li', {}, c)));
  $('#caveats').hidden = caveats.length === 0;
  if (resp.chart) renderChart(resp.chart);
  // A verified example answered it; any other answer that ran may become one.
  $('#verified').hidden = !resp.verified;
  $('#verified').textContent = resp.verified ? `Verified example ${resp.verified}` : '';
  const savable = resp.status === 'answered' && resp.sql && resp.qid && !resp.verified;
  $('#save-verified').hidden = !savable;
  if (savable) $('#save-verified').dataset.qid = resp.qid;

  if (resp.status && resp.status !== 'answered' && resp.status !== 'needs_approval') {
    const label = t(STATUS_TEXT[resp.status] || resp.status);
    setStatus(resp.status === 'error' ? 'error' : 'info', `${label}: ${resp.message || t('no further detail.')}`);
    showChoices(resp.choices);
  } else if (resp.status === 'answered') {
    if (!resp.rows || !resp.rows.length) setStatus('info', t('The query ran and returned no rows.'));
    else setStatus(null, null);
  }
}

// ---------- result table ----------

function renderTable(columns, rows, qid, partial) {
  // Buckets the range cuts (a short first or last week): their rows are marked.
  state.table = { columns: columns || [], rows: rows || [], page: 0, qid, partial: new Set(partial || []) };
  $('#download-csv').disabled = !columns || !columns.length;
  drawPage();
}

function drawPage() {
  const { columns, rows, partial } = state.table;
  const table = $('#result-table');
  const thead = table.tHead;
  const tbody = table.tBodies[0];
  clear(thead);
  clear(tbody);
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  state.table.page = Math.min(Math.max(0, state.table.page), pages - 1);
  const page = state.table.page;

  if (!columns.length) {
    $('#page-info').textContent = '';
    $('#row-count').textContent = '';
    $('#prev-page').disabled = true;
    $('#next-page').disabled = true;
    return;
  }
  thead.append(
    el('tr', {}, columns.map((c) => el('th', { class: isNumericType(c.type) ? 'num' : '', title: c.type || '' }, c.name))),
  );
  for (const row of rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE)) {
    const cut = partial && partial.size > 0 && partial.has(String(row[0]));
    tbody.append(
      el(
        'tr',
        { class: cut ? 'partial' : null, dataset: cut ? { partial: 'true' } : {} },
        columns.map((c, i) => {
          const v = row[i];
          const cls = [isNumericType(c.type) ? 'num' : '', v === null || v === undefined ? 'null' : ''].join(' ').trim();
          const shown = v === null || v === undefined ? 'null' : cellText(v, c.type, c.name);
          if (cut && i === 0) {
            return el('td', { class: cls || null }, shown, ' ', el('span', { class: 'partial-mark', title: t('The range cuts this bucket: it holds only some of its days.') }, t('partial')));
          }
          return el('td', { class: cls || null }, shown);
        }),
      ),
    );
  }
  $('#row-count').textContent = `(${formatNumber(rows.length)})`;
  $('#page-info').textContent = pageText(page + 1, pages);
  $('#prev-page').disabled = page <= 0;
  $('#next-page').disabled = page >= pages - 1;
}

function downloadCsv() {
  const { columns, rows, qid } = state.table;
  if (!columns.length) return;
  const blob = new Blob([toCsv(columns, rows)], { type: 'text/csv;charset=utf-8' });
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: `nlq-${(qid || 'result').replace(/[^A-Za-z0-9_-]/g, '_')}.csv` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

// ---------- chart ----------

let chartView = null;

function clearChart() {
  if (chartView) {
    try {
      chartView.finalize();
    } catch {
      /* ignore */
    }
    chartView = null;
  }
  state.chartSpec = null;
  const div = $('#chart');
  clear(div);
  div.append(el('p', { class: 'muted' }, t('No chart.')));
}

async function renderChart(spec) {
  if (!spec || typeof spec !== 'object') return;
  const key = JSON.stringify(spec);
  if (state.chartSpec === key) return; // the same spec again (chart event, then done)
  clearChart();
  state.chartSpec = key;
  const div = $('#chart');
  clear(div);
  if (typeof window.vegaEmbed !== 'function') {
    div.append(el('p', { class: 'muted' }, t('Chart library did not load.')));
    return;
  }
  const full = { ...spec };
  // Single views stretch to the card's width; facets and concatenations keep their own sizes.
  const enc = full.encoding || {};
  const single = (full.mark || full.layer) && !enc.facet && !enc.row && !enc.column;
  if (single && full.width === undefined) {
    full.width = 'container';
    if (full.autosize === undefined) full.autosize = { type: 'fit-x', contains: 'padding' };
  }
  try {
    const result = await window.vegaEmbed(div, full, { renderer: 'svg', actions: false });
    if (state.chartSpec !== key) {
      result.view.finalize();
      return;
    }
    chartView = result.view;
  } catch (err) {
    if (state.chartSpec !== key) return;
    clear(div);
    div.append(el('p', { class: 'status status-error' }, `Chart could not be drawn: ${err.message || err}`));
  }
}

// ---------- history ----------

function addHistory(question) {
  const li = el(
    'li',
    { class: 'turn pending', dataset: { testid: 'history-entry' } },
    el('div', { class: 'turn-q' }, question),
    el('div', { class: 'turn-a muted' }, '…'),
  );
  const turn = { question, response: null, li };
  li.addEventListener('click', () => {
    if (turn.response && state.current !== turn && document.body.dataset.state !== 'streaming') {
      state.current = turn;
      resetAnswer();
      $('#question').value = turn.question;
      renderResponse(turn.response);
      markCurrent();
    }
  });
  $('#history').append(li);
  $('#history-empty').hidden = true;
  state.turns.push(turn);
  markCurrent(turn);
  return turn;
}

function removeTurn(turn) {
  state.turns = state.turns.filter((t) => t !== turn);
  turn.li.remove();
  if (state.current === turn) state.current = null;
  $('#history-empty').hidden = state.turns.length > 0;
}

function markCurrent(turn = state.current) {
  for (const t of state.turns) t.li.classList.toggle('current', t === turn);
}

function updateHistory(turn, resp, fallback) {
  if (!turn) return;
  if (resp) turn.response = resp;
  const a = turn.li.querySelector('.turn-a');
  let text = fallback || '';
  if (resp) {
    if (resp.summary) text = resp.summary;
    else if (resp.status === 'needs_approval') text = `Needs approval: ${resp.approval_reason || resp.message || ''}`;
    else if (resp.message) text = `${STATUS_TEXT[resp.status] || resp.status}: ${resp.message}`;
    else if (resp.status) text = STATUS_TEXT[resp.status] || resp.status;
  }
  a.textContent = text || '…';
  turn.li.classList.toggle('pending', !resp || resp.status === 'needs_approval');
  turn.li.dataset.status = resp ? resp.status || '' : 'error';
}

function newConversation() {
  if (state.source) {
    state.source.close();
    state.source = null;
  }
  state.conversationId = null;
  state.turns = [];
  state.current = null;
  clear($('#history'));
  $('#history-empty').hidden = false;
  resetAnswer();
  setState('idle');
  $('#question').value = '';
  $('#question').focus();
}

// ---------- asking ----------

function streamUrl(question) {
  const params = new URLSearchParams({ question });
  if (state.conversationId) params.set('conversation_id', state.conversationId);
  params.set('user_ack', 'false');
  return `/api/query/stream?${params.toString()}`;
}

/**
 * Splits Server-Sent Events text into complete events ({type, data}) and the unfinished rest.
 * Comment lines (`: keep-alive`) are skipped.
 */
export function parseSse(text) {
  const events = [];
  const blocks = text.split(/\r?\n\r?\n/);
  const rest = blocks.pop();
  for (const block of blocks) {
    let type = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (!line || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') type = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) events.push({ type, data: data.join('\n') });
  }
  return { events, rest };
}

/**
 * An answer stream read with fetch, so the API key travels in the Authorization header and
 * never in a URL (where proxies and browser history keep it). Listeners get `{data}` for the
 * server's events, `error` with no data when the stream ends, and `failed` with the HTTP
 * status and the error body when the server refused the request.
 */
class AnswerStream {
  constructor(url, key) {
    this.listeners = new Map();
    this.controller = new AbortController();
    this.closed = false;
    // Listeners are added right after construction: start on the next turn.
    queueMicrotask(() => this.start(url, key));
  }

  addEventListener(type, fn) {
    if (!this.listeners.has(type)) this.listeners.set(type, []);
    this.listeners.get(type).push(fn);
  }

  emit(type, event) {
    if (this.closed && type !== 'failed') return;
    for (const fn of this.listeners.get(type) || []) fn(event);
  }

  close() {
    this.closed = true;
    this.controller.abort();
  }

  async start(url, key) {
    const headers = { Accept: 'text/event-stream' };
    if (key) headers.Authorization = `Bearer ${key}`;
    let response;
    try {
      response = await fetch(url, { headers, signal: this.controller.signal });
    } catch {
      this.emit('error', {});
      return;
    }
    if (!response.ok || !response.body) {
      let error = {};
      try {
        error = (await response.json()).error || {};
      } catch {
        // Not our JSON: the status says enough.
      }
      this.emit('failed', { status: response.status, error });
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        const parsed = parseSse(buffer + value);
        buffer = parsed.rest;
        for (const event of parsed.events) this.emit(event.type, { data: event.data });
      }
    } catch {
      // Aborted or cut: reported as the end of the stream below.
    }
    this.emit('error', {});
  }
}

function ask(question) {
  question = (question || '').trim();
  if (!question) {
    $('#question').focus();
    return;
  }
  if (state.source) {
    state.source.close();
    state.source = null;
  }
  resetAnswer();
  state.turnCounter += 1;
  document.body.dataset.turn = String(state.turnCounter);
  const turn = addHistory(question);
  state.current = turn;
  setState('streaming');
  streamStart = performance.now();

  const source = new AnswerStream(streamUrl(question), apiKey());
  state.source = source;
  let gotEvent = false;
  let finished = false;
  let summaryLi = null;

  const parse = (e) => {
    gotEvent = true;
    try {
      return JSON.parse(e.data);
    } catch {
      return {};
    }
  };
  const on = (type, fn) =>
    source.addEventListener(type, (e) => {
      if (state.source !== source) return; // a newer question took over
      fn(parse(e));
    });

  on('classify', (d) => addStage('classify', 'classify', [d.intent, d.reason].filter(Boolean).join(' — ')));
  on('plan', (d) => addStage('plan', 'plan', d.intent || ''));
  on('sql', (d) => {
    showSql(d.sql);
    addStage('sql', 'sql', d.sql ? `${d.sql.split('\n').length} lines` : '');
  });
  on('validation', (d) => {
    const findings = Array.isArray(d.findings) ? d.findings : [];
    const li = addStage('validation', `${t('validation')}: ${d.step || '?'}`, t(d.ok ? 'ok' : 'failed'), d.ok !== false);
    if (findings.length) {
      li.append(el('ul', { class: 'findings' }, findings.map((f) => el('li', {}, findingText(f)))));
    }
  });
  on('cost', (d) => {
    showCost(d);
    addStage('cost', 'cost', costText(d));
  });
  on('approval_required', (d) => {
    showApproval(d.qid, d.reason);
    if (d.sql) showSql(d.sql);
    if (d.cost) showCost(d.cost);
    addStage('approval_required', 'approval required', d.reason || '', 'warn');
  });
  on('rows', (d) => {
    renderTable(d.columns || [], d.rows || [], null);
    const n = d.row_count ?? (d.rows || []).length;
    addStage('rows', 'rows', rowsText(n));
  });
  on('summary_delta', (d) => {
    state.summaryText += d.text || '';
    $('#summary').textContent = state.summaryText;
    if (!summaryLi) summaryLi = addStage('summary', 'summary', t('writing…'));
  });
  on('summary', (d) => {
    state.summaryText = d.text || '';
    $('#summary').textContent = state.summaryText;
    if (summaryLi) summaryLi.querySelector('.stage-detail').textContent = t('done');
    else summaryLi = addStage('summary', 'summary', '');
  });
  on('chart', (d) => {
    renderChart(d.spec);
    addStage('chart', 'chart', d.spec && d.spec.mark ? String(d.spec.mark.type || d.spec.mark) : '');
  });
  // The server refused the request before streaming: its status and error body say why.
  source.addEventListener('failed', ({ status, error }) => {
    if (state.source !== source) return;
    state.source = null;
    finished = true;
    if (status === 401) {
      // Nothing was asked: drop the turn, and ask again once a key is saved.
      removeTurn(turn);
      afterKeySaved = () => ask(question);
      setStatus('error', t('The server needs an API key: enter it above; the question is asked again when you save it.'));
      setState('error');
      return;
    }
    addStage('error', 'error', error.code || String(status), false);
    const rid = error.request_id ? ` (request ${error.request_id})` : '';
    setStatus('error', `Error: ${error.message || error.code || `HTTP ${status}`}${rid}`);
    updateHistory(turn, null, 'Failed');
    setState('error');
  });
  // The server's `error` event carries data; the end of the stream does not.
  source.addEventListener('error', (e) => {
    if (state.source !== source) return;
    if (e.data) {
      const d = parse(e);
      addStage('error', 'error', d.code || '', false);
      const rid = d.request_id ? ` (request ${d.request_id})` : '';
      setStatus('error', `Error: ${d.message || d.code || 'unknown'}${rid}`);
      return;
    }
    source.close();
    state.source = null;
    if (finished) return;
    finished = true;
    if (!gotEvent) {
      setStatus('error', t('Could not reach the answer stream. Is the server running?'));
    } else {
      addStage('error', 'connection', 'closed before done', false);
      setStatus('error', t('The answer stream closed before it finished.'));
    }
    updateHistory(turn, null, 'Failed');
    setState('error');
  });
  on('done', (resp) => {
    finished = true;
    source.close();
    state.source = null;
    const outcome = resp.status === 'answered' ? true : resp.status === 'error' || resp.status === 'refused' ? false : 'warn';
    addStage('done', 'done', resp.status || '', outcome);
    renderResponse(resp);
    updateHistory(turn, resp);
    setState(resp.status === 'needs_approval' || resp.needs_approval ? 'needs_approval' : 'done');
  });
}

async function approve() {
  const qid = $('#approve').dataset.qid;
  if (!qid) return;
  const turn = state.current;
  setState('running');
  streamStart = performance.now();
  addStage('run', 'approved, running', qid);
  try {
    const resp = await api('/api/query/run', { method: 'POST', body: { qid, user_ack: true } });
    if (state.current !== turn) return;
    $('#approval').hidden = true;
    setStatus(null, null);
    if (Array.isArray(resp.rows)) {
      addStage('rows', 'rows', rowsText(resp.rows.length));
    }
    if (resp.summary) addStage('summary', 'summary', '');
    if (resp.chart) addStage('chart', 'chart', '');
    addStage('done', 'done', resp.status || '', resp.status === 'answered');
    renderResponse(resp);
    updateHistory(turn, resp);
    setState('done');
  } catch (err) {
    if (state.current !== turn) return;
    if (err instanceof ApiError && err.status === 401) afterKeySaved = approve;
    addStage('error', 'run', err.code || 'failed', false);
    setStatus('error', `${t('Run failed')}: ${errorText(err)}`);
    setState('needs_approval');
  }
}

async function saveVerified() {
  const qid = $('#save-verified').dataset.qid;
  if (!qid) return;
  try {
    const id = await saveAsVerified(qid);
    $('#save-verified').hidden = true;
    setStatus('info', `Saved as verified example ${id}: this question is answered by this SQL from now on.`);
  } catch (err) {
    setStatus('error', `${t('Not saved')}: ${err.message}`);
  }
}

async function copySql() {
  const text = $('#sql').textContent;
  if (!text) return;
  const btn = $('#copy-sql');
  let ok = false;
  try {
    await navigator.clipboard.writeText(text);
    ok = true;
  } catch {
    // No clipboard API (plain http on a non-loopback host): the old way.
    const ta = el('textarea', { style: 'position:fixed;left:-9999px;top:0', readonly: true });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    try {
      ok = document.execCommand('copy');
    } catch {
      ok = false;
    }
    ta.remove();
  }
  btn.textContent = t(ok ? 'Copied' : 'Copy failed');
  setTimeout(() => {
    btn.textContent = t('Copy');
  }, 1500);
}

// ---------- demo questions ----------

async function loadDemoQuestions() {
  const box = $('#demo-questions');
  try {
    const data = await api('/api/demo/questions');
    clear(box);
    for (const q of (data && data.questions) || []) {
      const text = typeof q === 'string' ? q : q.question;
      if (!text) continue;
      box.append(
        el(
          'button',
          {
            type: 'button',
            class: 'chip',
            lang: (q && q.lang) || null,
            dataset: { testid: 'demo-question' },
            onclick: () => {
              $('#question').value = text;
              ask(text);
            },
          },
          text,
        ),
      );
    }
  } catch (err) {
    clear(box);
    if (!(err instanceof ApiError && err.status === 401)) {
      box.append(el('span', { class: 'muted' }, `Example questions unavailable: ${errorText(err)}`));
    }
  }
}

// ---------- customer flow ----------

async function loadSegments() {
  const select = $('#flow-segment');
  try {
    const data = await api('/api/network/customer-flow/segments');
    const current = select.value;
    clear(select);
    for (const s of (data && data.segments) || []) {
      select.append(el('option', { value: s.id }, s.label || s.id));
    }
    if (current) select.value = current;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 401)) {
      setFlowStatus('error', `Segments unavailable: ${errorText(err)}`);
    }
  }
}

function setFlowStatus(kind, text) {
  const box = $('#flow-status');
  box.hidden = !text;
  box.className = text ? `status status-${kind}` : 'status';
  box.textContent = text || '';
}

async function showFlow() {
  const body = {
    segment: $('#flow-segment').value || 'all',
    start: $('#flow-start').value,
    end: $('#flow-end').value,
    min_edge_count: Math.max(1, parseInt($('#flow-min-count').value, 10) || 1),
    limit: Math.max(1, parseInt($('#flow-limit').value, 10) || 50),
  };
  if (!body.start || !body.end) {
    setFlowStatus('error', t('Pick a start and an end date.'));
    return;
  }
  if (body.start > body.end) {
    setFlowStatus('error', t('The start date is after the end date.'));
    return;
  }
  const btn = $('#flow-show');
  btn.disabled = true;
  setFlowStatus('info', 'Loading…');
  try {
    const data = await api('/api/network/customer-flow', { method: 'POST', body });
    setFlowStatus(null, null);
    const nodes = (data && data.nodes) || [];
    const links = (data && data.links) || [];
    drawFlowGraph(nodes, links);
    drawFlowTable(links);
    $('#flow-sql').textContent = (data && data.sql) || '';
    const badge = $('#flow-cost');
    if (data && data.cost) {
      badge.textContent = costText(data.cost);
      badge.hidden = false;
    } else {
      badge.hidden = true;
    }
    if (!links.length) setFlowStatus('info', t('No links in this range; try a lower minimum edge count or wider dates.'));
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) afterKeySaved = showFlow;
    setFlowStatus('error', `Flow failed: ${errorText(err)}`);
  } finally {
    btn.disabled = false;
  }
}

/** Layers by BFS from the entry nodes (no incoming links), so a funnel reads left to right. */
export function layerNodes(nodes, links) {
  const ids = nodes.map((n) => n.id);
  const known = new Set(ids);
  for (const l of links) {
    for (const id of [l.source, l.target]) {
      if (!known.has(id)) {
        known.add(id);
        ids.push(id);
      }
    }
  }
  const out = new Map(ids.map((id) => [id, []]));
  const indeg = new Map(ids.map((id) => [id, 0]));
  for (const l of links) {
    if (l.source === l.target) continue;
    out.get(l.source).push(l.target);
    indeg.set(l.target, indeg.get(l.target) + 1);
  }
  const count = new Map(nodes.map((n) => [n.id, Number(n.count) || 0]));
  const layer = new Map();
  const byCount = (a, b) => (count.get(b) || 0) - (count.get(a) || 0);
  let roots = ids.filter((id) => indeg.get(id) === 0).sort(byCount);
  const remaining = () => ids.filter((id) => !layer.has(id)).sort(byCount);
  while (layer.size < ids.length) {
    if (!roots.length) roots = [remaining()[0]];
    const queue = [];
    for (const r of roots) {
      if (!layer.has(r)) {
        layer.set(r, 0);
        queue.push(r);
      }
    }
    while (queue.length) {
      const id = queue.shift();
      for (const t of out.get(id)) {
        if (!layer.has(t)) {
          layer.set(t, layer.get(id) + 1);
          queue.push(t);
        }
      }
    }
    roots = [];
  }
  return { ids, layer, count };
}

function drawFlowGraph(nodes, links) {
  const box = $('#flow-graph');
  clear(box);
  if (!nodes.length && !links.length) {
    box.append(el('p', { class: 'muted' }, t('No events for this segment and range.')));
    return;
  }
  const { ids, layer, count } = layerNodes(nodes, links);
  const layers = [];
  for (const id of ids) {
    const l = layer.get(id);
    (layers[l] ||= []).push(id);
  }
  for (const col of layers) col.sort((a, b) => (count.get(b) || 0) - (count.get(a) || 0));

  const width = Math.max(box.clientWidth || 1100, 600);
  const rowGap = 90;
  const maxRows = Math.max(...layers.map((c) => c.length));
  const height = Math.max(260, maxRows * rowGap + 70);
  const colGap = layers.length > 1 ? (width - 200) / (layers.length - 1) : 0;
  const pos = new Map();
  layers.forEach((col, i) => {
    const top = (height - (col.length - 1) * rowGap) / 2;
    col.forEach((id, j) => pos.set(id, { x: layers.length > 1 ? 100 + i * colGap : width / 2, y: top + j * rowGap }));
  });

  const maxNode = Math.max(1, ...ids.map((id) => count.get(id) || 0));
  const radius = (id) => 15 + 17 * Math.sqrt((count.get(id) || 0) / maxNode);
  const maxLink = Math.max(1, ...links.map((l) => Number(l.count) || 0));
  const strokeW = (c) => 1 + 11 * ((Number(c) || 0) / maxLink);

  const root = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: 'img',
    'aria-label': 'Customer event flow',
    class: 'flow-svg',
  });
  root.append(
    svg(
      'defs',
      {},
      svg(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerUnits: 'userSpaceOnUse',
          markerWidth: 10,
          markerHeight: 10,
          orient: 'auto-start-reverse',
        },
        svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrow-head' }),
      ),
    ),
  );
  const linkLayer = svg('g', { class: 'links' });
  const nodeLayer = svg('g', { class: 'nodes' });
  root.append(linkLayer, nodeLayer);

  const sorted = [...links].sort((a, b) => (Number(a.count) || 0) - (Number(b.count) || 0));
  for (const l of sorted) {
    const s = pos.get(l.source);
    const t = pos.get(l.target);
    if (!s || !t) continue;
    const title = svg('title', {}, `${l.source} → ${l.target}: ${Number(l.count).toLocaleString()}`);
    let d;
    if (l.source === l.target) {
      const r = radius(l.source);
      d = `M ${s.x - r * 0.6} ${s.y - r * 0.8} C ${s.x - r * 2} ${s.y - r * 3}, ${s.x + r * 2} ${s.y - r * 3}, ${s.x + r * 0.6} ${s.y - r * 0.8}`;
    } else {
      const dx = t.x - s.x;
      const dy = t.y - s.y;
      const dist = Math.hypot(dx, dy) || 1;
      const rs = radius(l.source);
      const rt = radius(l.target) + 3;
      const sx = s.x + (dx / dist) * rs;
      const sy = s.y + (dy / dist) * rs;
      const tx = t.x - (dx / dist) * rt;
      const ty = t.y - (dy / dist) * rt;
      // Bend every link a little so A→B and B→A do not overlap; backward links bend more.
      const back = (layer.get(l.target) ?? 0) <= (layer.get(l.source) ?? 0);
      const bend = back ? 0.35 : 0.12;
      const mx = (sx + tx) / 2 - (dy / dist) * dist * bend;
      const my = (sy + ty) / 2 + (dx / dist) * dist * bend;
      d = `M ${sx} ${sy} Q ${mx} ${my} ${tx} ${ty}`;
    }
    linkLayer.append(
      svg('path', { d, class: 'link', 'stroke-width': strokeW(l.count).toFixed(1), 'marker-end': 'url(#arrow)' }, title),
    );
  }
  for (const id of ids) {
    const p = pos.get(id);
    const r = radius(id);
    const c = count.get(id);
    nodeLayer.append(
      svg(
        'g',
        { class: 'node', transform: `translate(${p.x},${p.y})`, 'data-node': id },
        svg('title', {}, `${id}: ${c === undefined ? '?' : c.toLocaleString()}`),
        svg('circle', { r }),
        svg('text', { class: 'node-label', y: r + 14, 'text-anchor': 'middle' }, id),
        svg('text', { class: 'node-count', y: 4, 'text-anchor': 'middle' }, c === undefined ? '' : compact(c)),
      ),
    );
  }
  box.append(root);
}

function compact(n) {
  return Number(n).toLocaleString(undefined, { notation: 'compact', maximumFractionDigits: 1 });
}

function drawFlowTable(links) {
  const table = $('#flow-links');
  clear(table.tHead);
  clear(table.tBodies[0]);
  if (!links.length) return;
  const outTotal = new Map();
  for (const l of links) outTotal.set(l.source, (outTotal.get(l.source) || 0) + (Number(l.count) || 0));
  table.tHead.append(
    el('tr', {}, el('th', {}, t('From')), el('th', {}, t('To')), el('th', { class: 'num' }, t('Count')), el('th', { class: 'num' }, t('Share of from'))),
  );
  const top = [...links].sort((a, b) => (Number(b.count) || 0) - (Number(a.count) || 0)).slice(0, 20);
  for (const l of top) {
    const share = outTotal.get(l.source) ? (100 * (Number(l.count) || 0)) / outTotal.get(l.source) : 0;
    table.tBodies[0].append(
      el(
        'tr',
        {},
        el('td', {}, l.source),
        el('td', {}, l.target),
        el('td', { class: 'num' }, Number(l.count).toLocaleString()),
        el('td', { class: 'num' }, `${share.toFixed(1)}%`),
      ),
    );
  }
}

// ---------- wiring ----------

function init() {
  applyStatic();
  // Switching language rewrites the labels and the current table; the server's summaries stay
  // in the language of their question.
  $('#lang').addEventListener('change', (e) => {
    setLang(e.target.value);
    drawPage();
  });
  setupKeyPanel();
  setupTabs();
  setupKnowledge();
  clearChart();
  $('#ask-form').addEventListener('submit', (e) => {
    e.preventDefault();
    ask($('#question').value);
  });
  $('#approve').addEventListener('click', approve);
  $('#copy-sql').addEventListener('click', copySql);
  $('#save-verified').addEventListener('click', saveVerified);
  $('#prev-page').addEventListener('click', () => {
    state.table.page -= 1;
    drawPage();
  });
  $('#next-page').addEventListener('click', () => {
    state.table.page += 1;
    drawPage();
  });
  $('#download-csv').addEventListener('click', downloadCsv);
  $('#new-conversation').addEventListener('click', newConversation);
  $('#flow-form').addEventListener('submit', (e) => {
    e.preventDefault();
    showFlow();
  });
  loadDemoQuestions();
  loadSegments();
  document.body.dataset.ready = 'true';
}

init();
