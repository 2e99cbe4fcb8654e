import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clipTextOf } from '../src/search/search.ts';

test('an English-only CLIP embeds a Chinese query as its English slot concepts', () => {
  const u = { text: '红色耐克跑鞋', conceptText: 'red nike running shoes' } as Parameters<typeof clipTextOf>[0];
  assert.equal(clipTextOf(u, '80元以下的红色耐克跑鞋', true), 'red nike running shoes');
  assert.equal(clipTextOf(u, '80元以下的红色耐克跑鞋', false), '红色耐克跑鞋');
  const en = { text: 'red nike running shoes', conceptText: 'red nike running shoes' } as Parameters<typeof clipTextOf>[0];
  assert.equal(clipTextOf(en, 'red nike running shoes under 80 dollars', true), 'red nike running shoes');
  assert.equal(clipTextOf(null, 'gift', true), 'gift');
});
