// The clocks chapter of the lab, as a reader uses it, against the release bundle in headless
// Chromium: play the drifting-clocks scenario, pick two events in the space-time diagram by
// clicking them and read their relation (checked against their vectors); flip the diagram to
// wall-clock time; then, with the sibling-keeping register, drag a node away, write on both
// sides through the node menu, heal, and see every replica keep both writes as siblings.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { drag, emptySpot, nodes, playUntil, setPlaying, shoot, speed, stageNode } from './stage.mjs';

/** The relation the vectors say: "before" when a < b entry by entry, and so on. */
function relationOf(a, b) {
  const va = a.split(',').map(Number);
  const vb = b.split(',').map(Number);
  const le = (x, y) => x.every((v, i) => v <= y[i]) && x.some((v, i) => v !== y[i]);
  return le(va, vb) ? 'before' : le(vb, va) ? 'after' : 'concurrent';
}

const event = (page, index) => page.locator(`[data-diagram] [data-event="${index}"]`);
const events = (page) =>
  page.locator('[data-diagram] [data-event]').evaluateAll((els) =>
    els.map((el) => ({
      index: Number(el.dataset.event),
      node: Number(el.dataset.node),
      lamport: Number(el.dataset.lamport),
      vc: el.dataset.vc,
      // Where the event is drawn along the diagram's x axis.
      x: Math.round(el.getBBox().x),
    })),
  );

async function pick(page, a, b) {
  await event(page, a).scrollIntoViewIfNeeded();
  await event(page, a).click();
  await event(page, b).scrollIntoViewIfNeeded();
  await event(page, b).click();
  return page.locator('[data-relation]').getAttribute('data-relation');
}

test('clocks: pick two events and read happened-before; wall-clock axis', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}clocks.html?c=clocks&s=clocks.41`);
    await page.locator('[data-stage]').waitFor({ timeout: 30_000 });
    // A chapter without clients or logs shows neither the client history nor the log panel.
    assert.equal(await page.getByRole('heading', { name: 'Client history' }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Logs', exact: true }).count(), 0);
    assert.equal(await page.getByRole('heading', { name: 'Events', exact: true }).count(), 1);
    await speed(page, 1);
    await setPlaying(page, true);
    await page.waitForFunction(() => document.querySelectorAll('[data-diagram] [data-event]').length >= 40, null, {
      timeout: 60_000,
    });
    await setPlaying(page, false);
    const all = await events(page);
    assert.ok(all.length >= 40, `${all.length} events drawn`);
    // The diagram follows the run: its newest event is in view.
    const scroller = await page.locator('.ck-scroll').boundingBox();
    const newest = await event(page, Math.max(...all.map((e) => e.index))).boundingBox();
    assert.ok(
      newest.x >= scroller.x && newest.x + newest.width <= scroller.x + scroller.width,
      `the newest event (x ${newest.x}) is within the diagram's view (${scroller.x}..${scroller.x + scroller.width})`,
    );
    for (const e of all) assert.match(e.vc, /^\d+(,\d+){3}$/, 'a vector has one entry per node');

    // Two events of the same node: the earlier happened before the later.
    const n2 = all.filter((e) => e.node === 2);
    assert.equal(await pick(page, n2[0].index, n2[n2.length - 1].index), 'before');
    const readout = await page.locator('[data-relation]').textContent();
    assert.match(readout, /A happened before B/);
    // The causal cone of the first pick is highlighted: its later event is in its future.
    assert.match(await event(page, n2[n2.length - 1].index).getAttribute('class'), /future|picked-b/);
    await shoot(page, 'clocks-before');

    // Every other pair the test tries reads as its vectors say, "after" and "concurrent" included.
    const seen = new Set();
    for (const [i, j] of [[all.length - 1, 0], [5, 6], [10, 20], [30, 12], [all.length - 2, all.length - 1]]) {
      const a = all[i];
      const b = all[j];
      const got = await pick(page, a.index, b.index);
      assert.equal(got, relationOf(a.vc, b.vc), `n${a.node} #${a.index} [${a.vc}] vs n${b.node} #${b.index} [${b.vc}]`);
      seen.add(got);
    }
    assert.ok(seen.has('after'), 'an "after" pair was read');

    // A Lamport-ordered concurrent pair from the list reads as concurrent.
    await page.locator('[data-event]').first().click(); // a fresh first pick...
    await page.locator('[data-event]').first().click(); // ...let go of it, so the list shows the latest pairs
    assert.match(await page.locator('[aria-label="Relation of the picked events"]').textContent(), /Click an event/);
    const pair = page.locator('[data-pair]').first();
    await pair.waitFor({ timeout: 10_000 });
    await pair.click();
    assert.equal(await page.locator('[data-relation]').getAttribute('data-relation'), 'concurrent');
    assert.match(await page.locator('[data-relation]').textContent(), /concurrent/);
    await shoot(page, 'clocks-concurrent');

    // Wall-clock axis: the same events move (each node's clock is off true time).
    await page.getByRole('button', { name: "x = each node's wall clock" }).click();
    const walls = await events(page);
    const moved = walls.filter((e, k) => e.x !== all[k].x && e.node !== 1).length;
    assert.ok(moved > 0, 'events of drifting nodes move on the wall-clock axis');
    await shoot(page, 'clocks-wall-axis');

    // Played too fast to read, the panel and the event list are paced; once the run stops,
    // both catch up with the moment it stopped at.
    await speed(page, 2);
    await setPlaying(page, true);
    await page.waitForTimeout(1_500);
    await setPlaying(page, false);
    const stopped = Number(await page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us'));
    const seconds = `${Math.floor(stopped / 1e6)}.${String(stopped % 1e6).padStart(6, '0')} s`;
    await page.locator('.ck-clocks h3', { hasText: seconds }).waitFor({ timeout: 5_000 });
    // One step on from there: the event list's newest line is that very event.
    await page.getByRole('button', { name: 'Step to the next event' }).click();
    const stepped = await page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us');
    await page.locator(`.ev-list li:last-child [data-time-us="${stepped}"]`).waitFor({ timeout: 5_000 });
    assert.deepEqual(errors, []);
  });
});

test('clocks: siblings keep both writes made on the two sides of a partition', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}clocks.html?c=clocks&s=clocks.41~store.siblings~workload.off`);
    await page.locator('[data-stage]').waitFor({ timeout: 30_000 });
    await speed(page, 1);

    // Drag n4 away: it is cut off from the others.
    await drag(page, 4, await emptySpot(page));

    const write = async (id, value) => {
      await stageNode(page, id).click();
      await page.getByLabel('Number for the actions').fill(String(value));
      await page.getByRole('button', { name: `Write to the register ${value} (n${id})` }).click();
      await page.keyboard.press('Escape');
    };
    await write(2, 7);
    await write(4, 9);
    const versions = (id) => stageNode(page, id).getAttribute('data-versions');
    await playUntil(page, () => true, 'a moment');
    assert.equal(await versions(4), '9', 'n4 has only its own write while cut off');

    // Play a while: the majority side has 7, n4 still 9 alone.
    await setPlaying(page, true);
    await page.waitForTimeout(1500);
    await setPlaying(page, false);
    assert.equal(await versions(1), '7');
    assert.equal(await versions(4), '9');

    // Heal, play until anti-entropy has spread both: every replica keeps the two siblings.
    await page.getByRole('button', { name: 'Heal', exact: true }).click();
    await setPlaying(page, true);
    await page.waitForFunction(
      () => [1, 2, 3, 4].every((id) => document.querySelector(`[data-stage] [data-node="${id}"]`)?.dataset.versions === '7,9'),
      null,
      { timeout: 60_000 },
    );
    await setPlaying(page, false);
    for (const id of [1, 2, 3, 4]) assert.equal(await versions(id), '7,9');
    await shoot(page, 'clocks-siblings');
    assert.deepEqual(errors, []);
  });
});
