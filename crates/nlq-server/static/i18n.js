// The page's two languages. Korean or English from the browser's language, or the switch in the
// header (kept in localStorage); every label, number, percent and date goes through here.
// Static labels carry data-i18n (text), data-i18n-placeholder or data-i18n-aria (attributes)
// with the English text as the key; a key without a Korean entry shows as written.

const LANG_STORAGE = 'nlq_lang';

const KO = {
  // header and tabs
  'GA4 analytics': 'GA4 분석',
  Chat: '대화',
  'Customer flow': '고객 흐름',
  Knowledge: '지식',
  'API key': 'API 키',
  Language: '언어',
  'This server needs an API key.': '이 서버는 API 키가 필요합니다.',
  'Save key': '키 저장',
  'Forget key': '키 삭제',
  'Kept in this browser only (localStorage).': '이 브라우저에만 저장됩니다 (localStorage).',
  // chat
  Conversation: '대화 기록',
  'New conversation': '새 대화',
  'Questions you ask appear here. Follow-ups use the earlier answers as context.':
    '질문한 내용이 여기에 표시됩니다. 이어지는 질문은 앞의 답을 맥락으로 씁니다.',
  'Ask about your GA4 data, e.g. 지난 7일 디바이스별 방문자 수':
    'GA4 데이터에 대해 물어보세요. 예: 지난 7일 디바이스별 방문자 수',
  Question: '질문',
  Ask: '질문하기',
  'Example questions': '예시 질문',
  Progress: '진행 상황',
  Summary: '요약',
  Result: '결과',
  Chart: '차트',
  Rows: '행',
  SQL: 'SQL',
  Copy: '복사',
  Copied: '복사됨',
  'Copy failed': '복사 실패',
  'Download CSV': 'CSV 다운로드',
  Previous: '이전',
  Next: '다음',
  'Approve and run': '승인하고 실행',
  'Approval needed.': '승인이 필요합니다.',
  'Save as verified': '검증된 예시로 저장',
  Prev: '이전',
  Segment: '세그먼트',
  Start: '시작',
  End: '종료',
  'Min edge count': '최소 연결 수',
  'Max links': '최대 연결 수',
  Show: '보기',
  'Event flow': '이벤트 흐름',
  'Pick a segment and dates, then Show.': '세그먼트와 날짜를 고른 뒤 보기를 누르세요.',
  'Top links': '주요 연결',
  'Save as verified example': '검증된 예시로 저장',
  Caveats: '유의 사항',
  'This query needs your approval before it runs.': '이 쿼리는 실행 전에 승인이 필요합니다.',
  'Please clarify': '질문을 구체적으로 해 주세요',
  'Out of scope': '범위 밖의 질문',
  'Needs the LLM path': 'LLM이 필요한 질문',
  'Needs approval': '승인 필요',
  'The query ran and returned no rows.': '쿼리는 실행되었지만 결과 행이 없습니다.',
  'no further detail.': '자세한 내용이 없습니다.',
  'No chart.': '차트가 없습니다.',
  'Chart library did not load.': '차트 라이브러리를 불러오지 못했습니다.',
  'Could not reach the answer stream. Is the server running?':
    '답변 스트림에 연결할 수 없습니다. 서버가 실행 중인가요?',
  'The answer stream closed before it finished.': '답변 스트림이 끝나기 전에 닫혔습니다.',
  'The server needs an API key: enter it above; the question is asked again when you save it.':
    '서버에 API 키가 필요합니다. 위에 입력해 저장하면 질문을 다시 보냅니다.',
  Error: '오류',
  'Run failed': '실행 실패',
  'Not saved': '저장되지 않음',
  // stages
  classify: '분류',
  plan: '계획',
  sql: 'SQL',
  validation: '검증',
  cost: '비용',
  'approval required': '승인 필요',
  rows: '행',
  summary: '요약',
  chart: '차트',
  done: '완료',
  error: '오류',
  connection: '연결',
  'approved, running': '승인됨, 실행 중',
  run: '실행',
  ok: '통과',
  failed: '실패',
  'writing…': '작성 중…',
  billed: '청구',
  lines: '줄',
  partial: '일부 기간',
  'The range cuts this bucket: it holds only some of its days.':
    '기간이 이 구간을 잘라 일부 날짜만 들어 있습니다.',
  // customer flow
  'Pick a start and an end date.': '시작일과 종료일을 고르세요.',
  'The start date is after the end date.': '시작일이 종료일보다 늦습니다.',
  'No links in this range; try a lower minimum edge count or wider dates.':
    '이 기간에는 연결이 없습니다. 최소 연결 수를 낮추거나 기간을 넓혀 보세요.',
  'No events for this segment and range.': '이 세그먼트와 기간에는 이벤트가 없습니다.',
  From: '출발',
  To: '도착',
  Count: '횟수',
  'Share of from': '출발 대비 비율',
};

/** The language the page speaks: the switch's choice, else the browser's first language. */
export function lang() {
  const chosen = localStorage.getItem(LANG_STORAGE);
  if (chosen === 'ko' || chosen === 'en') return chosen;
  const browser = (navigator.languages && navigator.languages[0]) || navigator.language || 'en';
  return browser.toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

export function setLang(value) {
  localStorage.setItem(LANG_STORAGE, value === 'ko' ? 'ko' : 'en');
  applyStatic();
}

/** The locale numbers and dates are written in. */
export function locale() {
  return lang() === 'ko' ? 'ko-KR' : 'en-US';
}

/** A label in the page's language. */
export function t(text) {
  return lang() === 'ko' && Object.prototype.hasOwnProperty.call(KO, text) ? KO[text] : text;
}

/** "12 rows" / "12개 행", "page 1 of 3" / "1 / 3쪽". */
export function rowsText(n) {
  const count = formatNumber(n);
  return lang() === 'ko' ? `${count}개 행` : `${count} rows`;
}

export function pageText(page, pages) {
  return lang() === 'ko' ? `${page} / ${pages}쪽` : `page ${page} of ${pages}`;
}

export function formatNumber(value, digits = 6) {
  return Number(value).toLocaleString(locale(), { maximumFractionDigits: digits });
}

/** A fraction (0.123) as a percentage in the page's language: "12.3%". */
export function formatPercent(fraction) {
  return new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: 1 }).format(fraction);
}

/** A `YYYY-MM-DD` date as people read it: "2020. 12. 7." / "Dec 7, 2020". */
export function formatDate(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(text));
  if (!m) return String(text);
  const day = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(locale(), { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' }).format(day);
}

/** Writes every marked static label in the page's language, and the page's `lang`. */
export function applyStatic(root = document) {
  document.documentElement.lang = lang();
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) {
    node.setAttribute('placeholder', t(node.dataset.i18nPlaceholder));
  }
  for (const node of root.querySelectorAll('[data-i18n-aria]')) node.setAttribute('aria-label', t(node.dataset.i18nAria));
  const select = root.querySelector('#lang');
  if (select) select.value = lang();
}
