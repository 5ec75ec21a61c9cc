// One page per chapter: the index lists the chapters of the registry; an old link to the
// single-page app (`/?c=paxos&s=...`) opens its chapter's page with the same run; a link for
// a chapter Deep End lacks says so; and each chapter's page loads exactly one wasm bundle,
// its own.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { shoot } from './stage.mjs';
import { watchForErrors, withBrowser } from './browser.mjs';

const wasmLoads = (page) => {
  const loads = [];
  page.on('response', (r) => {
    if (r.url().endsWith('.wasm')) loads.push(new URL(r.url()).pathname);
  });
  return loads;
};

test('the index lists the chapters and old links open their chapter page', { timeout: 180_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors = watchForErrors(page);

    await page.goto(server.url);
    const listed = await page.locator('[data-chapters] a').evaluateAll((as) => as.map((a) => a.dataset.chapter));
    assert.deepEqual(listed, ['raft', 'paxos', 'clocks', 'generals', 'cap', 'txn'], 'the index lists the registry');
    assert.equal(await page.locator('#problem').isVisible(), false, 'no problem without a link');

    // An old link to the one-page app lands on the Paxos page, the run intact.
    const link = '?c=paxos&s=paxos.51~mode.multi';
    await page.goto(`${server.url}${link}`);
    await page.waitForURL((url) => url.pathname.endsWith('/paxos.html'), { timeout: 30_000 });
    assert.equal(new URL(page.url()).search, link, 'the query goes along');
    await page.getByText('Multi-Paxos, 5 nodes').first().waitFor({ timeout: 30_000 });

    // A link for a chapter there is not: named, with the list, no silent fallback.
    await page.goto(`${server.url}?c=zab`);
    await page.locator('#problem').waitFor({ state: 'visible', timeout: 10_000 });
    assert.match(await page.locator('#problem').innerText(), /chapter called .zab., which Deep End does not have/);
    await shoot(page, 'index-unknown-chapter');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('each chapter page loads one wasm bundle of its own', { timeout: 180_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const seen = {};
    // The first node to show: a leader, or for the partitions chapter's quorum store a replica.
    for (const [chapter, role] of [['raft', 'leader'], ['paxos', 'leader'], ['cap', 'replica']]) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      const errors = watchForErrors(page);
      const loads = wasmLoads(page);
      await page.goto(`${server.url}${chapter}.html`);
      await page.locator(`[data-stage] [data-role="${role}"]`).first().waitFor({ timeout: 60_000 });
      assert.equal(loads.length, 1, `${chapter}.html loads one wasm bundle: ${loads}`);
      seen[chapter] = loads[0];
      assert.deepEqual(errors, [], `no errors were logged on ${chapter}.html`);
      await page.close();
    }
    assert.equal(new Set(Object.values(seen)).size, 3, 'the chapters have bundles of their own');
  });
});
