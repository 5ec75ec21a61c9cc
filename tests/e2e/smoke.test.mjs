// Smoke test of the release bundle: the page loads, the Raft cluster elects a leader, and
// simulated time moves on, with nothing logged as an error.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { SCREENSHOTS, watchForErrors, withBrowser } from './browser.mjs';

const simTimeUs = (page) => page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us').then(Number);

test('the Raft ring elects a leader while simulated time advances', { timeout: 120_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 800, height: 720 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}raft.html`);

    const stage = page.locator('[data-stage]');
    const leader = stage.locator('[data-role="leader"]');
    // Generous: a cold page on a busy 2-core machine, then an election or two.
    await leader.first().waitFor({ timeout: 60_000 });

    const nodes = stage.locator('[data-node]');
    assert.deepEqual(
      await nodes.evaluateAll((els) => els.map((el) => el.dataset.node)),
      ['1', '2', '3', '4', '5'],
      'the default run has five nodes, numbered 1 to 5',
    );
    assert.deepEqual(
      await nodes.evaluateAll((els) => [...new Set(els.map((el) => el.dataset.status))]),
      ['up'],
      'no fault is scripted, so every node is up',
    );
    assert.equal(await leader.count(), 1, 'without faults there is exactly one leader');
    const term = Number(await leader.getAttribute('data-term'));
    assert.ok(term >= 1, `the leader's term is at least 1, got ${term}`);

    const before = await simTimeUs(page);
    assert.ok(Number.isInteger(before) && before > 0, `simulated time is a positive count of microseconds, got ${before}`);
    await page.waitForFunction(
      (t) => Number(document.querySelector('[data-sim-time-us]').dataset.simTimeUs) > t,
      before,
      { timeout: 10_000 },
    );
    assert.ok((await simTimeUs(page)) > before, 'simulated time advances');

    await fs.mkdir(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, 'smoke.png') });

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});
