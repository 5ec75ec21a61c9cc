// The Raft lab as a reader uses it, against the release bundle in headless Chromium: real
// pointer drags partition and heal, client requests, rewinding and branching, copied links,
// and embed mode doing no work while it is not seen.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { center, drag, emptySpot, nodes, playUntil, setPlaying, shoot, simTimeUs, speed, stageNode } from './stage.mjs';

test('partition by dragging, commit on the majority only, heal, rewind and branch, share', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}raft.html`);

    // No steady load: logs then stay still once replicated, so convergence is observable.
    await page.getByLabel('Steady load').uncheck();
    await speed(page, 1); // 10x real time

    // 1. A leader is elected.
    const elected = await playUntil(page, (ns) => ns.some((n) => n.role === 'leader'), 'a leader is elected');
    const old = elected.find((n) => n.role === 'leader');
    const beforePartition = await simTimeUs(page);

    // 2. Drag the leader away, alone: the majority elects a leader of a higher term.
    await drag(page, old.id, await emptySpot(page));
    await shoot(page, 'lab-partitioned');
    const split = await playUntil(
      page,
      (ns) => ns.some((n) => n.id !== old.id && n.role === 'leader' && n.term > old.term),
      'the majority elects a new leader',
    );
    const fresh = split.find((n) => n.id !== old.id && n.role === 'leader');
    assert.ok(fresh.term > old.term, `the new leader's term ${fresh.term} is above the old ${old.term}`);
    assert.equal(split.find((n) => n.id === old.id).role, 'leader', 'the isolated old leader does not know yet');

    // 3. A client write through each side: it commits on the majority side only.
    await stageNode(page, old.id).click();
    await page.getByRole('button', { name: new RegExp(`^Write k\\d+ = \\d+ through n${old.id}$`) }).click();
    await page.keyboard.press('Escape');
    await stageNode(page, fresh.id).click();
    await page.getByRole('button', { name: new RegExp(`^Write k\\d+ = \\d+ through n${fresh.id}$`) }).click();
    await page.keyboard.press('Escape');
    const written = await playUntil(
      page,
      (ns) => {
        const o = ns.find((n) => n.id === old.id);
        const f = ns.find((n) => n.id === fresh.id);
        return o.last > o.commit && f.commit >= f.last && f.commit > old.commit + 1;
      },
      'the majority commits its write and the isolated node holds its own uncommitted',
    );
    const isolated = written.find((n) => n.id === old.id);
    assert.ok(isolated.last > isolated.commit, `n${old.id} holds an entry it cannot commit`);
    await shoot(page, 'lab-written');

    // 4. Drag it back onto the new leader: healed; the old leader steps down, logs converge.
    await drag(page, old.id, await center(stageNode(page, fresh.id).locator('circle').first()));
    const healed = await playUntil(
      page,
      (ns) =>
        ns.find((n) => n.id === old.id).role === 'follower' &&
        ns.every((n) => n.last === ns[0].last && n.commit === ns[0].last && n.term === ns[0].term),
      'the old leader steps down and every log converges',
    );
    assert.equal(healed.filter((n) => n.role === 'leader').length, 1, 'one leader after the heal');
    await shoot(page, 'lab-healed');

    // 5. Rewind to before the partition and act: the run branches, the old future is gone.
    await page.getByLabel('Simulated time').fill(String(beforePartition));
    await page.waitForFunction((t) => Number(document.querySelector('[data-sim-time-us]').dataset.simTimeUs) === t, beforePartition);
    const rewound = await nodes(page);
    assert.equal(rewound.find((n) => n.id === old.id).role, 'leader', 'rewound to when the old leader led');
    await page.getByRole('button', { name: 'Heal', exact: true }).click();
    await page.getByText(/^Branched at/).waitFor();
    const startTerm = rewound.find((n) => n.id === old.id).term;
    const target = beforePartition + 3_000_000;
    await setPlaying(page, true);
    await page.waitForFunction((t) => Number(document.querySelector('[data-sim-time-us]').dataset.simTimeUs) >= t, target, {
      timeout: 60_000,
    });
    await setPlaying(page, false);
    const branched = await nodes(page);
    const stillLeader = branched.find((n) => n.id === old.id);
    assert.equal(stillLeader.role, 'leader', 'in the new branch nobody cut the leader off');
    assert.equal(stillLeader.term, startTerm, 'and its term never moved');
    await shoot(page, 'lab-branched');

    // 6. A copied link reloads to the same simulated time and state.
    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('button', { name: /copied/i }).waitFor({ timeout: 5_000 }).catch(() => {});
    const link = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(link, /[?&]s=/, `the link carries the script: ${link}`);
    const copy = await context.newPage();
    const copyErrors = watchForErrors(copy);
    await copy.goto(link);
    await copy.waitForFunction(
      (t) => Number(document.querySelector('[data-sim-time-us]')?.dataset.simTimeUs) === t,
      await simTimeUs(page),
      { timeout: 60_000 },
    );
    assert.deepEqual(await nodes(copy), await nodes(page), 'the reloaded link shows the same cluster');
    await shoot(copy, 'lab-link-reloaded');
    assert.deepEqual(copyErrors, [], 'no errors on the reloaded page');

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('a malformed link shows a specific message and falls back to the default run', { timeout: 120_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage();
    await page.goto(`${server.url}raft.html?c=raft&s=raft.51~4J9`);
    await page.getByText(/damaged/).waitFor({ timeout: 30_000 });
    await page.locator('[data-stage] [data-role="leader"]').first().waitFor({ timeout: 60_000 });
    assert.equal(await page.locator('[data-stage] [data-node]').count(), 5, 'the default scenario runs');
    assert.equal(await page.locator('[data-panic]').count(), 0, 'nothing panicked');
  });
});

test('embed mode renders, waits for the reader, and does no work while hidden', { timeout: 120_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 640, height: 420 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}raft.html?embed=1`);
    await page.locator('[data-stage] [data-node]').first().waitFor();
    assert.equal(await page.locator('[data-stage] [data-node]').count(), 5, 'the stage renders');
    const frames = () => page.evaluate(() => window.__deepend?.frames ?? 0);
    await page.waitForTimeout(1_000);
    assert.equal(await frames(), 0, 'no animation frame before the reader interacts');
    await shoot(page, 'embed-idle');

    await page.getByRole('button', { name: /Play/ }).first().click();
    await page.waitForFunction(() => (window.__deepend?.frames ?? 0) > 10);
    await page.evaluate(() => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForTimeout(200);
    const hidden = await frames();
    const timeHidden = await simTimeUs(page);
    await page.waitForTimeout(1_000);
    assert.equal(await frames(), hidden, 'no animation frames while the tab is hidden');
    assert.equal(await simTimeUs(page), timeHidden, 'and simulated time stands still');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('a message captured from the inspector never arrives, and its link replays the capture', { timeout: 180_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}raft.html`);
    await page.getByLabel('Steady load').uncheck();
    await speed(page, 0);
    await playUntil(page, (ns) => ns.some((n) => n.role === 'leader'), 'a leader is elected');
    // Heartbeats flow from the leader: step event by event until one is on its way.
    const next = page.getByRole('button', { name: 'Step to the next event' });
    const messages = page.locator('[data-stage] [data-msg]');
    for (let i = 0; i < 200 && (await messages.count()) === 0; i++) await next.click();
    const caught = messages.first();
    const id = await caught.getAttribute('data-msg');
    await caught.click({ force: true });
    await page.locator(`[data-inspected-message="${id}"]`).waitFor();
    await shoot(page, 'lab-capture-inspector');
    await page.getByRole('button', { name: 'Capture this message' }).click();
    assert.equal(await page.locator(`[data-stage] [data-msg="${id}"]`).count(), 0, `message ${id} left the stage`);
    await page.locator('.events').getByText(/dropped \(captured\)/).first().waitFor({ timeout: 10_000 });
    const search = decodeURIComponent(new URL(page.url()).search);
    assert.match(search, new RegExp(`Y${Number(id).toString(36)}(~|&|$)`), `the link holds the capture: ${search}`);
    // The link replays it: the same message is captured again.
    await page.goto(page.url());
    await page.locator('[data-stage] [data-node]').first().waitFor();
    await page.locator('.events').getByText(/dropped \(captured\)/).first().waitFor({ timeout: 30_000 });
    await shoot(page, 'lab-capture-replayed');
    assert.deepEqual(errors, []);
  });
});
