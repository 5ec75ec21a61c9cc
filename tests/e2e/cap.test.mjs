// The partitions chapter of the lab, as a reader uses it, against the release bundle in
// headless Chromium. CP and AP: a real pointer drag cuts n1 off under a steady load; the CP
// store refuses n1's clients (availability below 100%, the history linearizable), the AP store
// answers everyone and its copies diverge. Split brain: pause the Raft leader from its node
// menu for longer than the election timeout; without fencing the storage accepts its stale
// write and the checkers report a lost update, with fencing the write log shows it rejected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { drag, emptySpot, nodes, playUntil, setPlaying, shoot, simTimeUs, speed, stageNode } from './stage.mjs';

// Five replicas, seed 1, a load of 20 requests a second from five clients on one key.
const STORE = (mode, quorums) => `?c=cap&s=cap.51~mode.${mode}~${quorums}~client-attempts.1~0Gk.5.1`;

/** Plays until simulated time reaches `us`, or the lab stops by itself at a violation. */
async function playTo(page, us) {
  await setPlaying(page, true);
  await page.waitForTimeout(300);
  await page.waitForFunction(
    (t) =>
      Number(document.querySelector('[data-sim-time-us]').dataset.simTimeUs) >= t ||
      !document.querySelector('button.play').textContent.includes('Pause'),
    us,
    { timeout: 120_000 },
  );
  await setPlaying(page, false);
}

const readouts = (page) =>
  page.locator('[data-availability]').evaluate((el) => ({ ...el.dataset }));

async function cutOffN1(page, mode, quorums) {
  await page.goto(`${page.serverUrl}cap.html${STORE(mode, quorums)}`);
  await page.locator('[data-stage] [data-node="5"]').waitFor({ timeout: 30_000 });
  await speed(page, 0.5);
  await playTo(page, 1_000_000);
  assert.equal((await readouts(page)).availability, '100%', `${mode}: all answered before the cut`);
  await drag(page, 1, await emptySpot(page));
  const start = await simTimeUs(page);
  await playTo(page, start + 3_000_000);
  return readouts(page);
}

test('CP refuses on the minority side, AP answers and diverges', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    page.serverUrl = server.url;
    const errors = watchForErrors(page);

    const cp = await cutOffN1(page, 'cp', 'r.3~w.3');
    assert.notEqual(cp.availability, '100%', `CP refuses n1's client: ${JSON.stringify(cp)}`);
    assert.match(await page.locator('[data-quorum]').textContent(), /R \+ W = 6 > N = 5/);
    await page.locator('[data-verdict="linearizable"]').waitFor({ timeout: 30_000 });
    await shoot(page, 'cap-cp-partitioned');

    const ap = await cutOffN1(page, 'ap', 'r.1~w.1');
    assert.equal(ap.availability, '100%', `AP answers everyone: ${JSON.stringify(ap)}`);
    assert.equal(await page.locator('[data-key][data-diverged="true"]').count(), 1, 'the copies of k0 diverge');
    await shoot(page, 'cap-ap-partitioned');
    // Heal by dragging n1 back onto n2: hints and read repair bring the copies together.
    const n2 = await stageNode(page, 2).locator('circle').first().boundingBox();
    await drag(page, 1, { x: n2.x + n2.width / 2, y: n2.y + n2.height / 2 });
    const healed = await simTimeUs(page);
    await playTo(page, healed + 2_000_000);
    await shoot(page, 'cap-ap-healed');
    assert.equal((await nodes(page)).length, 5);

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

/** Pauses the Raft leader for 1 s from its node menu, then plays 1.5 s on. */
async function pauseTheLeader(page) {
  const [leader] = (await playUntil(page, (ns) => ns.some((n) => n.role === 'leader'), 'a leader')).filter(
    (n) => n.role === 'leader',
  );
  await playTo(page, (await simTimeUs(page)) + 300_000);
  await stageNode(page, leader.id).click();
  await page.getByRole('button', { name: `Pause n${leader.id} for 1 s` }).click();
  await page.keyboard.press('Escape');
  await playTo(page, (await simTimeUs(page)) + 1_500_000);
  return leader.id;
}

test('split brain: a paused leader overwrites without fencing and is rejected with it', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}cap.html?c=cap&s=cap.41~mode.split-brain`);
    await page.locator('[data-stage] [data-node="4"][data-role="storage"]').waitFor({ timeout: 30_000 });
    await speed(page, 0);
    assert.equal(await page.locator('[data-stage] [data-node="4"]').getAttribute('data-fencing'), 'off');
    assert.equal(await page.locator('[data-fencing]').last().getAttribute('data-fencing'), 'off');

    const old = await pauseTheLeader(page);
    for (const name of ['Token Order', 'No Lost Update']) {
      await page.locator('li.prop.violated', { hasText: name }).waitFor({ timeout: 10_000 });
    }
    assert.ok(await page.locator(`li[data-writer="${old}"][data-accepted="true"]`).count(), 'the old leader wrote');
    await shoot(page, 'cap-split-brain');

    // Fencing on (a new run): the old leader's write is rejected and nothing is lost.
    await page.getByRole('checkbox', { name: 'Fencing tokens' }).check();
    await page.locator('p[data-fencing="on"]').waitFor({ timeout: 30_000 });
    const fenced = await pauseTheLeader(page);
    await page.locator(`li[data-writer="${fenced}"][data-accepted="false"]`).first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('li.prop.violated').count(), 0, 'no property broken with fencing');
    await shoot(page, 'cap-fenced');

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});
