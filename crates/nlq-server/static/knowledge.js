// The Knowledge tab: what the model knows (metrics and dimensions, by origin), what analysts
// taught it, and the forms to teach, edit and remove lessons. Reading takes the API key;
// teaching takes the admin token, which stays in this tab's sessionStorage only. Every lesson
// is checked by the server against the data; a refusal is shown with its reason.

import { $, el } from './dom.js';

const ADMIN_STORAGE = 'nlq_admin_token';
const TEACHER_STORAGE = 'nlq_teacher';
const KEY_STORAGE = 'nlq_api_key';

function stored(storage, key) {
  try {
    return storage.getItem(key) || '';
  } catch {
    return '';
  }
}

function store(storage, key, value) {
  try {
    if (value) storage.setItem(key, value);
    else storage.removeItem(key);
  } catch {
    /* storage may be disabled: the value then lives for this page only */
  }
}

export function adminToken() {
  return stored(sessionStorage, ADMIN_STORAGE);
}

/** A JSON call; teaching sends the admin token, reading the admin token or else the API key. */
async function call(path, { method = 'GET', body } = {}) {
  const token = adminToken() || (method === 'GET' ? stored(localStorage, KEY_STORAGE) : '');
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const resp = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try {
    data = await resp.json();
  } catch {
    data = null;
  }
  if (!resp.ok) {
    const message = (data && data.error && data.error.message) || `HTTP ${resp.status}`;
    const error = new Error(message);
    error.status = resp.status;
    throw error;
  }
  return data;
}

function setStatus(kind, text) {
  const box = $('#knowledge-status');
  box.hidden = !text;
  box.textContent = text || '';
  box.className = text ? `status ${kind}` : 'status';
  if (text) box.dataset.kind = kind;
  else delete box.dataset.kind;
}

/** One line saying what a lesson teaches. */
export function lessonText(lesson) {
  switch (lesson.kind) {
    case 'synonym':
      return `“${lesson.word}” means ${lesson.means}`;
    case 'metric':
      return `${lesson.name} = ${lesson.sql} (${lesson.format}${lesson.additive ? '' : ', not additive'})`;
    case 'example':
      return `“${lesson.question}” → ${lesson.sql}`;
    case 'note':
      return lesson.text;
    default:
      return JSON.stringify(lesson);
  }
}

let lessons = [];
let modelEntries = [];

export async function loadKnowledge() {
  try {
    const data = await call('/api/knowledge');
    lessons = data.lessons || [];
    modelEntries = data.model || [];
    $('#teach-submit').disabled = !data.teachable;
    if (!data.teachable) setStatus('info', 'This server keeps no knowledge store: nothing can be taught here.');
    renderLessons();
    renderModel();
    document.body.dataset.knowledge = 'loaded';
  } catch (err) {
    setStatus('error', `The knowledge could not be read: ${err.message}`);
  }
}

function renderLessons() {
  const body = $('#lessons tbody');
  body.replaceChildren(
    ...lessons.map((lesson) =>
      el(
        'tr',
        { dataset: { id: lesson.id, kind: lesson.kind } },
        el('td', {}, lesson.id),
        el('td', {}, lesson.kind),
        el('td', { class: 'lesson-text' }, lessonText(lesson)),
        el('td', {}, lesson.by),
        el('td', {}, lesson.at),
        el(
          'td',
          { class: 'row-actions' },
          el('button', { type: 'button', class: 'secondary small', 'data-testid': 'edit-lesson', onclick: () => edit(lesson) }, 'Edit'),
          el('button', { type: 'button', class: 'secondary small', 'data-testid': 'remove-lesson', onclick: () => remove(lesson.id) }, 'Remove'),
        ),
      ),
    ),
  );
  $('#lessons-empty').hidden = lessons.length > 0;
}

function renderModel() {
  const filter = $('#model-filter').value.trim().toLowerCase();
  const shown = modelEntries.filter(
    (e) => !filter || [e.name, e.origin, e.kind, ...(e.words || [])].some((w) => String(w).toLowerCase().includes(filter)),
  );
  $('#model-entries tbody').replaceChildren(
    ...shown.map((entry) =>
      el(
        'tr',
        { dataset: { name: entry.name, origin: entry.origin } },
        el('td', {}, entry.kind),
        el('td', {}, entry.name),
        el('td', {}, el('span', { class: `origin origin-${entry.origin}` }, entry.origin)),
        el('td', {}, (entry.words || []).join(', ')),
      ),
    ),
  );
  $('#model-count').textContent = `(${shown.length} of ${modelEntries.length})`;
}

function showKind(kind) {
  $('#teach-kind').value = kind;
  for (const part of document.querySelectorAll('#teach-form [data-kind]')) part.hidden = part.dataset.kind !== kind;
}

/** The lesson the form describes. */
function formLesson() {
  const kind = $('#teach-kind').value;
  const value = (id) => $(id).value.trim();
  switch (kind) {
    case 'synonym':
      return { kind, word: value('#teach-word'), means: value('#teach-means') };
    case 'metric':
      return {
        kind,
        name: value('#teach-name'),
        sql: value('#teach-metric-sql'),
        format: value('#teach-format'),
        additive: $('#teach-additive').checked,
        words: value('#teach-words').split(',').map((w) => w.trim()).filter(Boolean),
      };
    case 'example':
      return { kind, question: value('#teach-question'), sql: value('#teach-example-sql') };
    default:
      return { kind: 'note', text: value('#teach-text') };
  }
}

function resetForm() {
  $('#teach-form').reset();
  delete $('#teach-form').dataset.editing;
  $('#teach-submit').textContent = 'Teach';
  $('#cancel-edit').hidden = true;
  showKind($('#teach-kind').value || 'synonym');
}

function edit(lesson) {
  showKind(lesson.kind);
  const set = (id, v) => {
    $(id).value = v ?? '';
  };
  set('#teach-word', lesson.word);
  set('#teach-means', lesson.means);
  set('#teach-name', lesson.name);
  set('#teach-metric-sql', lesson.kind === 'metric' ? lesson.sql : '');
  set('#teach-format', lesson.format || 'count');
  $('#teach-additive').checked = lesson.additive !== false;
  set('#teach-words', (lesson.words || []).join(', '));
  set('#teach-question', lesson.question);
  set('#teach-example-sql', lesson.kind === 'example' ? lesson.sql : '');
  set('#teach-text', lesson.text);
  $('#teach-form').dataset.editing = lesson.id;
  $('#teach-submit').textContent = `Save ${lesson.id}`;
  $('#cancel-edit').hidden = false;
}

function needToken() {
  if (adminToken()) return false;
  setStatus('error', 'Teaching needs the admin token: enter it above.');
  $('#admin-token').focus();
  return true;
}

async function teach() {
  if (needToken()) return;
  const lesson = { ...formLesson(), by: stored(localStorage, TEACHER_STORAGE) || undefined };
  const editing = $('#teach-form').dataset.editing;
  setStatus('info', 'Checking the lesson against the data…');
  try {
    const kept = editing
      ? await call(`/api/knowledge/${encodeURIComponent(editing)}`, { method: 'PUT', body: lesson })
      : await call('/api/knowledge', { method: 'POST', body: lesson });
    setStatus('ok', `${editing ? 'Saved' : 'Taught'} ${kept.id}: ${lessonText(kept.lesson)}. The next question uses it.`);
    resetForm();
    await loadKnowledge();
  } catch (err) {
    setStatus('error', `Not taught: ${err.message}`);
  }
}

async function remove(id) {
  if (needToken()) return;
  try {
    await call(`/api/knowledge/${encodeURIComponent(id)}`, { method: 'DELETE' });
    setStatus('ok', `Removed ${id}.`);
    await loadKnowledge();
  } catch (err) {
    setStatus('error', `Not removed: ${err.message}`);
  }
}

/** "Save as verified": the answer `qid` becomes a verified example; its lesson id. */
export async function saveAsVerified(qid) {
  if (!adminToken()) throw new Error('saving an answer as verified needs the admin token (Knowledge tab)');
  const kept = await call('/api/knowledge/verified', {
    method: 'POST',
    body: { qid, by: stored(localStorage, TEACHER_STORAGE) || undefined },
  });
  return kept.id;
}

export function setupKnowledge() {
  $('#admin-token').value = adminToken();
  $('#teacher').value = stored(localStorage, TEACHER_STORAGE);
  $('#admin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    store(sessionStorage, ADMIN_STORAGE, $('#admin-token').value.trim());
    store(localStorage, TEACHER_STORAGE, $('#teacher').value.trim());
    setStatus('ok', adminToken() ? 'Admin token set for this tab.' : 'Admin token cleared.');
    loadKnowledge();
  });
  $('#teach-kind').addEventListener('change', () => showKind($('#teach-kind').value));
  $('#teach-form').addEventListener('submit', (e) => {
    e.preventDefault();
    teach();
  });
  $('#cancel-edit').addEventListener('click', resetForm);
  $('#model-filter').addEventListener('input', renderModel);
  showKind('synonym');
}
