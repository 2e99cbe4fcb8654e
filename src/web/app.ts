/**
 * The demo page: text, photo and voice search against POST /v1/search, no framework.
 * Every search is one multipart request carrying whatever parts are present (text, photo,
 * voice clip), so mixing them needs nothing special. All server text goes in through
 * textContent, never innerHTML.
 */

import { EMPTY_TRANSCRIPT } from './messages.ts';

// ---- response shapes (the parts of the API this page reads) ---------------------------------

interface Product {
  id: string;
  title: string;
  brand?: string;
  category?: string;
  color?: string;
  sku?: string;
  price?: number;
  currency?: string;
  image?: string;
}
interface Rank {
  rank: number;
  score: number;
}
interface Result {
  id: string;
  score: number;
  product: Product;
  explain: { vector: Rank | null; lexical: Rank | null; matchedSku: boolean; textSimilarity: number | null; imageSimilarity: number | null };
}
interface Understanding {
  intent: { label: string; confidence: number; alternatives: { label: string; confidence: number }[] };
  route: { route: string; searches: boolean; message: string };
  slots: Record<string, unknown>;
  filters: Record<string, unknown>;
}
interface SearchBody {
  results: Result[];
  query: {
    text: string | null;
    transcript: string | null;
    language: string | null;
    understanding: Understanding | null;
    filters: Record<string, unknown>;
    parts: Record<string, { used: boolean; weight: number | null }>;
  };
  timings: Record<string, number>;
}
interface ErrorBody {
  error?: { code?: string; message?: string };
}

/** The API caps clips at 30 s by default; stop a little before so the clip is never refused. */
const MAX_RECORD_SECONDS = 25;
const STAGES = ['decode', 'stt', 'understand', 'embed', 'fuse', 'ann', 'lexical', 'hydrate'];

// ---- elements ---------------------------------------------------------------------------

function el<T extends HTMLElement = HTMLElement>(id: string): T {
  const e = document.getElementById(id);
  if (!e) throw new Error(`#${id} is missing from index.html`);
  return e as T;
}
const form = el<HTMLFormElement>('search-form');
const q = el<HTMLInputElement>('q');
const photoInput = el<HTMLInputElement>('photo');
const photoPreview = el('photo-preview');
const photoImg = el<HTMLImageElement>('photo-img');
const photoName = el('photo-name');
const recordBtn = el<HTMLButtonElement>('record');
const recordLabel = recordBtn.querySelector<HTMLElement>('.record-label')!;
const recordState = el('record-state');
const voiceChip = el('voice-clip');
const voiceName = el('voice-name');
const kSelect = el<HTMLSelectElement>('k');
const languageSelect = el<HTMLSelectElement>('language');
const wText = el<HTMLInputElement>('w-text');
const wImage = el<HTMLInputElement>('w-image');
const notInput = el<HTMLInputElement>('not');
const errorBox = el('error');
const statusLine = el('status');
const results = el('results');
const empty = el('empty');
const health = el('health');

// ---- state ------------------------------------------------------------------------------

let photo: File | null = null;
let photoUrl: string | null = null;
let voice: { blob: Blob; seconds: number } | null = null;
let inFlight: AbortController | null = null;

// ---- search -----------------------------------------------------------------------------

function buildRequest(): FormData | null {
  const text = q.value.trim();
  if (!text && !photo && !voice) return null;
  const fd = new FormData();
  if (text) fd.set('text', text);
  if (photo) fd.set('image', photo, photo.name || 'photo');
  if (voice) fd.set('audio', voice.blob, `voice.${extensionOf(voice.blob.type)}`);
  fd.set('k', kSelect.value);
  if (languageSelect.value !== 'auto') fd.set('language', languageSelect.value);
  const not = notInput.value.trim();
  if (not) fd.set('not', not);
  const weights = { text: Number(wText.value), image: Number(wImage.value) };
  if (weights.text !== 1 || weights.image !== 1) fd.set('weights', JSON.stringify(weights));
  return fd;
}

async function runSearch(): Promise<void> {
  const body = buildRequest();
  if (!body) {
    showError('Type a query, add a photo or record your voice first.');
    q.focus();
    return;
  }
  inFlight?.abort();
  const ctl = (inFlight = new AbortController());
  clearError();
  setBusy(true, voice ? 'Transcribing and searching…' : 'Searching…');
  const started = performance.now();
  try {
    const res = await fetch('/v1/search', { method: 'POST', body, signal: ctl.signal });
    const data = (await res.json().catch(() => ({}))) as SearchBody & ErrorBody;
    if (!res.ok) {
      showError(describeError(res, data));
      setBusy(false, '');
      return;
    }
    render(data, performance.now() - started);
  } catch (err) {
    if ((err as Error).name === 'AbortError') return;
    showError('Could not reach the server. Check your connection and try again.');
    setBusy(false, '');
  } finally {
    if (inFlight === ctl) inFlight = null;
  }
}

function describeError(res: Response, data: ErrorBody): string {
  const msg = data.error?.message ?? `${res.status} ${res.statusText}`;
  const code = data.error?.code;
  if (res.status === 503 && code === 'model_not_ready') return 'The models are still loading. Try again in a few seconds.';
  return code ? `${capitalise(msg)} (${code})` : capitalise(msg);
}

function setBusy(busy: boolean, message: string): void {
  results.setAttribute('aria-busy', String(busy));
  form.classList.toggle('busy', busy);
  statusLine.textContent = message;
}

// ---- rendering --------------------------------------------------------------------------

function render(data: SearchBody, roundTripMs: number): void {
  renderResults(data.results);
  renderVoice(data.query);
  renderUnderstanding(data.query.understanding, data.query.filters);
  renderTimings(data.timings, roundTripMs);
  const n = data.results.length;
  const route = data.query.understanding?.route;
  let msg = n === 0 ? 'No products matched.' : `${n} result${n === 1 ? '' : 's'} in ${fmtMs(data.timings.total ?? roundTripMs)}.`;
  if (data.query.transcript === '' && n === 0) msg = `${EMPTY_TRANSCRIPT} Try again, closer to the microphone.`;
  if (route && !route.searches) msg += ` ${route.message}`;
  setBusy(false, msg);
}

function renderResults(list: Result[]): void {
  results.replaceChildren(...list.map(card));
  empty.hidden = list.length > 0;
}

function card(r: Result, index: number): HTMLLIElement {
  const p = r.product;
  const li = h('li', 'card');
  li.dataset.id = r.id;

  const media = h('div', 'card-media');
  const src = imageUrl(p.image);
  if (src) {
    const img = h('img');
    img.src = src;
    img.alt = p.title;
    img.loading = index < 8 ? 'eager' : 'lazy';
    img.decoding = 'async';
    img.addEventListener('error', () => media.replaceChildren(placeholder(p)), { once: true });
    media.append(img);
  } else media.append(placeholder(p));

  const body = h('div', 'card-body');
  const title = h('h3', 'card-title', p.title);
  title.title = p.title; // the card clamps long titles to two lines
  const meta = h('p', 'card-meta');
  if (p.brand) meta.append(h('span', 'card-brand', p.brand));
  if (p.color) meta.append(h('span', 'card-color', p.color));
  const foot = h('div', 'card-foot');
  foot.append(h('span', 'card-price', p.price == null ? '—' : money(p.price, p.currency ?? 'USD')));
  foot.append(h('span', 'card-score', `score ${r.score.toFixed(3)}`));
  body.append(title, meta, foot, h('p', 'card-why', why(r)));
  li.append(media, body);
  return li;
}

/** Why this result is here: which retriever found it, at what rank, and how similar it is. */
function why(r: Result): string {
  const e = r.explain;
  const parts: string[] = [];
  if (e.matchedSku) parts.push('SKU match');
  if (e.vector) parts.push(`vector #${e.vector.rank}`);
  if (e.lexical) parts.push(`keyword #${e.lexical.rank}`);
  if (e.textSimilarity != null) parts.push(`text ${e.textSimilarity.toFixed(2)}`);
  if (e.imageSimilarity != null) parts.push(`photo ${e.imageSimilarity.toFixed(2)}`);
  return parts.length ? `Why: ${parts.join(' · ')}` : '';
}

function placeholder(p: Product): HTMLElement {
  const d = h('div', 'card-placeholder', (p.brand ?? p.title).slice(0, 2).toUpperCase());
  d.setAttribute('aria-hidden', 'true');
  return d;
}

function renderVoice(query: SearchBody['query']): void {
  const t = el('transcript');
  t.removeAttribute('title');
  const lang = el('language-out');
  if (query.transcript === null) {
    t.textContent = 'No voice in this search.';
    t.dataset.state = 'none';
  } else if (query.transcript === '') {
    t.textContent = EMPTY_TRANSCRIPT;
    t.dataset.state = 'empty';
  } else {
    t.textContent = `“${query.transcript}”`;
    t.title = query.transcript;
    t.dataset.state = 'text';
  }
  t.classList.toggle('muted', t.dataset.state !== 'text');
  lang.textContent = query.language ?? '—';
  lang.classList.toggle('muted', !query.language);
}

function renderUnderstanding(u: Understanding | null, applied: Record<string, unknown>): void {
  const intent = el('intent');
  if (!u) {
    intent.replaceChildren(h('span', 'muted', 'No text to understand (photo only).'));
    el('slots').replaceChildren(h('li', 'muted', 'none'));
  } else {
    const pct = Math.round(u.intent.confidence * 100);
    const head = h('p', 'intent-head');
    head.append(h('strong', 'intent-label', humanise(u.intent.label)), h('span', 'intent-conf', `${pct}%`));
    const meter = h('meter') as HTMLMeterElement;
    meter.min = 0;
    meter.max = 1;
    meter.value = u.intent.confidence;
    meter.setAttribute('aria-label', `Confidence ${pct}%`);
    const route = h('p', 'intent-route', u.route.message);
    route.prepend(h('span', `route-tag ${u.route.searches ? 'ok' : 'warn'}`, u.route.route.replace(/_/g, ' ')));
    const alts = u.intent.alternatives.slice(0, 2).map((a) => `${humanise(a.label)} ${Math.round(a.confidence * 100)}%`);
    intent.replaceChildren(head, meter, route, ...(alts.length ? [h('p', 'intent-alts', `Also: ${alts.join(', ')}`)] : []));
    el('slots').replaceChildren(...tags(u.slots));
  }
  el('filters').replaceChildren(...tags(applied));
}

/** Slot and filter maps as chips; price bounds read as one range. */
function tags(map: Record<string, unknown>): HTMLLIElement[] {
  const out: HTMLLIElement[] = [];
  const cur = typeof map.currency === 'string' ? ` ${map.currency}` : '';
  for (const [key, value] of Object.entries(map)) {
    if (value == null || key === 'currency') continue;
    let text: string;
    if (key === 'priceMin') text = `price ≥ ${value}${cur}`;
    else if (key === 'priceMax') text = `price ≤ ${value}${cur}`;
    else text = `${key}: ${Array.isArray(value) ? value.join(', ') : String(value)}`;
    out.push(h('li', 'tag', text));
  }
  return out.length ? out : [h('li', 'muted', 'none')];
}

function renderTimings(t: Record<string, number>, roundTripMs: number): void {
  const total = t.total ?? 0;
  const rows: HTMLLIElement[] = [];
  for (const stage of [...STAGES, ...Object.keys(t).filter((k) => !STAGES.includes(k) && k !== 'total')]) {
    if (t[stage] == null) continue;
    const li = h('li', 'timing');
    const bar = h('span', 'timing-bar');
    bar.style.width = `${total > 0 ? Math.max(2, (t[stage] / total) * 100) : 0}%`;
    li.append(h('span', 'timing-name', stage), h('span', 'timing-track'), h('span', 'timing-ms', fmtMs(t[stage])));
    li.children[1].append(bar);
    rows.push(li);
  }
  const sum = h('li', 'timing total');
  sum.append(h('span', 'timing-name', 'total'), h('span', 'timing-track'), h('span', 'timing-ms', fmtMs(total)));
  const rt = h('li', 'timing total');
  rt.append(h('span', 'timing-name', 'round trip'), h('span', 'timing-track'), h('span', 'timing-ms', fmtMs(roundTripMs)));
  el('timings').replaceChildren(...rows, sum, rt);
}

// ---- photo ------------------------------------------------------------------------------

function setPhoto(file: File | null): void {
  if (photoUrl) URL.revokeObjectURL(photoUrl);
  photo = file;
  photoUrl = file ? URL.createObjectURL(file) : null;
  photoPreview.hidden = !file;
  if (file && photoUrl) {
    photoImg.src = photoUrl;
    photoName.textContent = file.name || 'Photo';
  } else {
    photoImg.removeAttribute('src');
    photoInput.value = '';
  }
}

photoInput.addEventListener('change', () => {
  const f = photoInput.files?.[0] ?? null;
  if (f && !f.type.startsWith('image/')) {
    showError('That file is not an image. Choose a JPEG, PNG or WebP photo.');
    setPhoto(null);
    return;
  }
  setPhoto(f);
  if (f) void runSearch();
});
el('photo-clear').addEventListener('click', () => {
  setPhoto(null);
  photoInput.focus();
});

// Dropping an image anywhere on the query panel does what the picker does.
form.addEventListener('dragover', (e) => {
  if (e.dataTransfer?.types.includes('Files')) e.preventDefault();
});
form.addEventListener('drop', (e) => {
  const f = Array.from(e.dataTransfer?.files ?? []).find((x) => x.type.startsWith('image/'));
  if (!f) return;
  e.preventDefault();
  setPhoto(f);
  void runSearch();
});

// ---- voice ------------------------------------------------------------------------------

let recorder: MediaRecorder | null = null;
let recordTimer = 0;

/** The first container the browser can record that the server decodes; else the browser's default. */
function pickMime(): string | undefined {
  const candidates = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/mp4', 'audio/webm', 'audio/ogg'];
  return candidates.find((m) => MediaRecorder.isTypeSupported(m));
}

async function startRecording(): Promise<void> {
  clearError();
  if (!navigator.mediaDevices?.getUserMedia || typeof MediaRecorder === 'undefined') {
    showError('Voice search needs a browser with microphone recording, on HTTPS or localhost.');
    return;
  }
  let stream: MediaStream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
  } catch (err) {
    const name = (err as DOMException).name;
    if (name === 'NotAllowedError' || name === 'SecurityError') {
      showError('Microphone access was denied. Allow the microphone for this site in your browser settings, or type your query instead.');
    } else if (name === 'NotFoundError') showError('No microphone was found on this device.');
    else showError(`Could not start recording: ${(err as Error).message}`);
    return;
  }
  const mime = pickMime();
  const rec = new MediaRecorder(stream, mime ? { mimeType: mime } : undefined);
  const chunks: Blob[] = [];
  const t0 = performance.now();
  rec.addEventListener('dataavailable', (e) => {
    if (e.data.size > 0) chunks.push(e.data);
  });
  rec.addEventListener('stop', () => {
    stream.getTracks().forEach((t) => t.stop());
    window.clearInterval(recordTimer);
    recorder = null;
    setRecordingUi(false);
    const seconds = (performance.now() - t0) / 1000;
    const blob = new Blob(chunks, { type: rec.mimeType || mime || 'audio/webm' });
    if (blob.size === 0) {
      showError('The recording was empty. Try again.');
      return;
    }
    setVoice({ blob, seconds });
    void runSearch();
  });
  rec.start();
  recorder = rec;
  setRecordingUi(true);
  recordTimer = window.setInterval(() => {
    const s = (performance.now() - t0) / 1000;
    recordState.textContent = `Recording ${clock(s)} — press Stop when done`;
    if (s >= MAX_RECORD_SECONDS) stopRecording();
  }, 250);
}

function stopRecording(): void {
  if (recorder && recorder.state !== 'inactive') recorder.stop();
}

function setRecordingUi(on: boolean): void {
  // The name changes rather than aria-pressed: the visible label says what a press will do.
  recordBtn.dataset.state = on ? 'recording' : 'idle';
  recordLabel.textContent = on ? 'Stop recording' : 'Record voice';
  recordState.textContent = on ? 'Recording 0:00 — press Stop when done' : '';
}

function setVoice(v: { blob: Blob; seconds: number } | null): void {
  voice = v;
  voiceChip.hidden = !v;
  if (v) voiceName.textContent = `Voice clip, ${clock(v.seconds)}`;
}

recordBtn.addEventListener('click', () => {
  if (recorder) stopRecording();
  else void startRecording();
});
el('voice-clear').addEventListener('click', () => {
  setVoice(null);
  recordBtn.focus();
});
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && recorder) stopRecording();
});

// ---- options, form, health ----------------------------------------------------------------

for (const [input, out] of [
  [wText, el<HTMLOutputElement>('w-text-out')],
  [wImage, el<HTMLOutputElement>('w-image-out')],
] as const) {
  input.addEventListener('input', () => (out.value = Number(input.value).toFixed(1)));
}

form.addEventListener('submit', (e) => {
  e.preventDefault();
  void runSearch();
});

/** Polls /readyz until the models are loaded, so the header says whether searching can work yet. */
async function watchHealth(): Promise<void> {
  try {
    const res = await fetch('/readyz', { cache: 'no-store' });
    if (res.ok) {
      const r = (await res.json()) as { index?: { products?: number } };
      health.dataset.state = 'ready';
      health.textContent = r.index?.products != null ? `Ready · ${r.index.products.toLocaleString()} products` : 'Ready';
      return;
    }
    health.dataset.state = 'starting';
    health.textContent = 'Loading models…';
  } catch {
    health.dataset.state = 'down';
    health.textContent = 'Server unreachable';
  }
  window.setTimeout(() => void watchHealth(), 2000);
}
void watchHealth();

// ---- small helpers ----------------------------------------------------------------------

function h<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
}
function clearError(): void {
  errorBox.hidden = true;
  errorBox.textContent = '';
}

/** Product images live under the server's image root; absolute URLs and data: URIs pass through. */
function imageUrl(image: string | undefined): string | null {
  if (!image) return null;
  if (/^(https?:|data:)/i.test(image)) return image;
  return `/images/${image.split('/').map(encodeURIComponent).join('/')}`;
}

function money(amount: number, currency: string): string {
  try {
    return new Intl.NumberFormat(navigator.language || 'en', { style: 'currency', currency }).format(amount);
  } catch {
    return `${amount.toFixed(2)} ${currency}`;
  }
}

function extensionOf(mime: string): string {
  if (mime.includes('webm')) return 'webm';
  if (mime.includes('ogg')) return 'ogg';
  if (mime.includes('mp4') || mime.includes('aac')) return 'm4a';
  if (mime.includes('wav')) return 'wav';
  return 'bin';
}

const fmtMs = (ms: number) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms < 10 ? ms.toFixed(1) : Math.round(ms)} ms`);
const clock = (s: number) => `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
const humanise = (label: string) => capitalise(label.replace(/_/g, ' '));
const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);
