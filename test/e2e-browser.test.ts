/**
 * The demo page in a real browser against the real server (tiny models, demo catalog):
 * text by keyboard, photo upload, text + photo mixed, voice through a fake microphone,
 * the error alert, and the phone-width layout. Debian's chromium, driven by playwright-core,
 * loopback only. Screenshots land in test-artifacts/ (gitignored) for a human to look at.
 *
 * Needs /usr/bin/chromium and espeak-ng (apt-get install -y chromium espeak-ng).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page, type Response } from 'playwright-core';
import { loadConfig, type Config } from '../src/config.ts';
import { startServer, type Running } from '../src/server/serve.ts';
import { buildWeb } from '../src/web/build.ts';
import { EMPTY_TRANSCRIPT } from '../src/web/messages.ts';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ARTIFACTS = path.join(REPO, 'test-artifacts');
const QUERY = 'red running shoes';
/** Every wait is bounded; a stuck step fails with a message instead of hanging the run. */
const WAIT_MS = 15_000;

let tmp: string;
let config: Config;
let running: Running | undefined;
let browser: Browser | undefined;
let context: BrowserContext | undefined;
let base: string;
/** A demo product's image, found from the first text search; the photo steps upload it. */
let productImage: string | undefined;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'omnisearch-e2e-'));
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const webDir = await buildWeb(path.join(tmp, 'web'));

  // The fake microphone plays this file in a loop; espeak-ng writes 16-bit PCM WAV, which is what it wants.
  const wav = path.join(tmp, 'query.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-w', wav, QUERY]);

  config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    OMNISEARCH_MODELS: 'tiny',
    OMNISEARCH_MODELS_DIR: path.join(REPO, 'models'),
    OMNISEARCH_DATA_DIR: path.join(tmp, 'data'),
    NODE_ENV: 'test',
  });
  running = await startServer(config, { webDir });
  await withTimeout(running.ready, 120_000, 'server ready');
  base = `http://127.0.0.1:${running.port}`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: WAIT_MS,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${wav}`,
    ],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  context.setDefaultTimeout(WAIT_MS);
  // Loopback only: anything else the page asks for is a bug (a CDN, a font, analytics).
  await context.route(/^(?!http:\/\/127\.0\.0\.1[:/])/, (route) => route.abort());
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await running?.close().catch(() => undefined);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function openPage(viewport?: { width: number; height: number }): Promise<Page> {
  const page = await context!.newPage();
  if (viewport) await page.setViewportSize(viewport);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(base, { waitUntil: 'load' });
  // The header reports readiness from /readyz; it must agree with the server.
  await page.locator('#health[data-state="ready"]').waitFor();
  assert.deepEqual(errors, [], 'the page threw while loading');
  return page;
}

const isSearch = (r: Response) => r.url() === `${base}/v1/search` && r.request().method() === 'POST';

/** Waits until every product image on the page has loaded with real pixels. */
async function imagesLoaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const imgs = Array.from(document.querySelectorAll<HTMLImageElement>('#results .card img'));
      return imgs.length > 0 && imgs.every((i) => i.complete && i.naturalWidth > 0);
    },
    undefined,
    { timeout: WAIT_MS },
  );
}

test('text: Tab reaches the search box, Enter searches, cards show loaded product images', async () => {
  const page = await openPage();
  // Keyboard only: the skip link comes first, the search box within a few Tabs.
  let focused = '';
  for (let i = 0; i < 5 && focused !== 'q'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement?.id ?? '');
  }
  assert.equal(focused, 'q', 'Tab never reached #q');
  await page.keyboard.type(QUERY);
  const [res] = await Promise.all([page.waitForResponse(isSearch), page.keyboard.press('Enter')]);
  assert.equal(res.status(), 200);
  const body = (await res.json()) as { results: { product: { image?: string } }[]; query: { parts: Record<string, { used: boolean }> } };
  assert.ok(body.results.length >= 1, 'the demo catalog should answer a text query');
  assert.equal(body.query.parts.text.used, true);

  const cards = page.locator('#results .card');
  await cards.first().waitFor();
  assert.equal(await cards.count(), body.results.length);
  await imagesLoaded(page);
  const first = cards.first();
  assert.ok((await first.locator('.card-title').textContent())?.trim(), 'card has a title');
  assert.match((await first.locator('.card-price').textContent()) ?? '', /\d/);
  assert.match((await first.locator('.card-why').textContent()) ?? '', /vector #\d+|keyword #\d+/);
  assert.notEqual((await page.locator('#intent').textContent())?.trim(), '—', 'intent panel filled');
  assert.match((await page.locator('#timings').textContent()) ?? '', /total/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'text-search.png'), fullPage: true });

  productImage = body.results.map((r) => r.product.image).find((i): i is string => !!i && !/^(https?|data):/.test(i));
  await page.close();
});

test('photo: uploading a product photo searches by image; with text in the box the request mixes both', async () => {
  assert.ok(productImage, 'the text search should have returned a product with a stored image');
  const file = path.join(config.imageRoot, productImage);
  assert.ok(fs.existsSync(file), `${file} should exist`);

  const page = await openPage();
  const [res] = await Promise.all([page.waitForResponse(isSearch), page.locator('#photo').setInputFiles(file)]);
  assert.equal(res.status(), 200);
  const body = (await res.json()) as { results: unknown[]; query: { parts: Record<string, { used: boolean }> } };
  assert.equal(body.query.parts.image.used, true);
  assert.equal(body.query.parts.text.used, false);
  assert.ok(body.results.length >= 1);
  await page.locator('#photo-preview').waitFor();
  await imagesLoaded(page);
  assert.match((await page.locator('#results .card .card-why').first().textContent()) ?? '', /photo -?\d/);
  await page.screenshot({ path: path.join(ARTIFACTS, 'photo-search.png'), fullPage: true });

  // Photo still attached + typed text = one multipart request carrying both parts.
  await page.locator('#q').fill('in red');
  const [mixed] = await Promise.all([page.waitForResponse(isSearch), page.locator('#search').click()]);
  const m = (await mixed.json()) as { query: { parts: Record<string, { used: boolean }> } };
  assert.equal(mixed.status(), 200);
  assert.equal(m.query.parts.image.used, true);
  assert.equal(m.query.parts.text.used, true);
  await page.locator('#results .card').first().waitFor();

  // Clearing the photo removes the preview and the part.
  await page.locator('#photo-clear').click();
  assert.equal(await page.locator('#photo-preview').isHidden(), true);
  await page.close();
});

test('voice: record from the (fake) microphone, stop, and the transcript panel and results update', async () => {
  const page = await openPage();
  const record = page.locator('#record');
  await record.click();
  await page.locator('#record[data-state="recording"]').waitFor();
  assert.equal((await record.textContent())?.trim(), 'Stop recording');
  assert.match((await page.locator('#record-state').textContent()) ?? '', /Recording \d:\d\d/);
  await page.waitForTimeout(2000);
  const [res] = await Promise.all([page.waitForResponse(isSearch, { timeout: 60_000 }), record.click()]);
  assert.equal(res.status(), 200, `voice search failed: ${await res.text()}`);
  const body = (await res.json()) as { results: unknown[]; query: { transcript: string | null; parts: Record<string, { used: boolean }> } };
  assert.equal(body.query.parts.audio.used, true);
  assert.equal(typeof body.query.transcript, 'string');
  assert.equal(await record.getAttribute('data-state'), 'idle');

  const transcript = page.locator('#transcript');
  // Tiny models have random weights: the transcript may be gibberish or empty; the page must say which.
  await page.waitForFunction(() => ['text', 'empty'].includes(document.querySelector<HTMLElement>('#transcript')?.dataset.state ?? ''), undefined, { timeout: WAIT_MS });
  const shown = (await transcript.textContent()) ?? '';
  if (body.query.transcript) {
    assert.equal(shown, `“${body.query.transcript}”`);
    assert.ok(body.results.length >= 1, 'a non-empty transcript searches the catalog');
    await page.locator('#results .card').first().waitFor();
  } else {
    assert.equal(shown, EMPTY_TRANSCRIPT);
    assert.match((await page.locator('#status').textContent()) ?? '', new RegExp(EMPTY_TRANSCRIPT.replace('.', '\\.')));
  }
  assert.equal(await page.locator('#voice-clip').isVisible(), true, 'the clip stays attached for a mixed query');
  await page.screenshot({ path: path.join(ARTIFACTS, 'voice-search.png'), fullPage: true });
  await page.close();
});

test('errors: a file that is not a decodable image shows the API error in the alert region', async () => {
  const page = await openPage();
  const [res] = await Promise.all([
    page.waitForResponse(isSearch),
    page.locator('#photo').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('definitely not a png') }),
  ]);
  assert.ok(res.status() >= 400 && res.status() < 500, `expected a 4xx, got ${res.status()}`);
  const { error } = (await res.json()) as { error: { code: string } };
  const alert = page.locator('#error[role="alert"]');
  await alert.waitFor({ state: 'visible' });
  assert.match((await alert.textContent()) ?? '', new RegExp(`\\(${error.code}\\)`));
  await page.close();
});

test('voice: a denied microphone permission shows a message and leaves the button usable', async () => {
  const page = await context!.newPage();
  // What the browser does when the user (or a policy) says no.
  await page.addInitScript(() => {
    navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
  });
  await page.goto(base, { waitUntil: 'load' });
  await page.locator('#record').click();
  const alert = page.locator('#error[role="alert"]');
  await alert.waitFor({ state: 'visible' });
  assert.match((await alert.textContent()) ?? '', /Microphone access was denied/);
  assert.equal(await page.locator('#record').getAttribute('data-state'), 'idle');
  await page.close();
});

test('phone: at 360x740 the page and its results have no horizontal scroll', async () => {
  const page = await openPage({ width: 360, height: 740 });
  await page.locator('#q').fill(QUERY);
  await Promise.all([page.waitForResponse(isSearch), page.locator('#q').press('Enter')]);
  await page.locator('#results .card').first().waitFor();
  await imagesLoaded(page);
  await page.locator('details.options summary').click(); // the widest controls live in Options
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= clientWidth, `horizontal scroll: content ${scrollWidth}px wide in a ${clientWidth}px viewport`);
  await page.screenshot({ path: path.join(ARTIFACTS, 'phone-text-search.png'), fullPage: true });
  await page.close();
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}
