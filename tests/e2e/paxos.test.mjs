// The Paxos chapter of the lab, as a reader uses it, against the release bundle in headless
// Chromium: Multi-Paxos elects a distinguished proposer; a real pointer drag cuts it off; the
// majority side's proposer takes over with a higher ballot round; a client write through it is
// chosen; dragging back heals, and every node learns the same slots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { DIST, SCREENSHOTS, launchBrowser, serveDir, watchForErrors } from './browser.mjs';

// Multi-Paxos, five nodes, seed 1, no client load (so that logs settle and converge).
const LINK = '?c=paxos&s=paxos.51~mode.multi';

const stageNode = (page, id) => page.locator(`[data-stage] [data-node="${id}"]`);
const simTimeUs = (page) => page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us').then(Number);

/** Every node's state as the stage shows it. */
const nodes = (page) =>
  page.locator('[data-stage] [data-node]').evaluateAll((els) =>
    els.map((el) => ({
      id: Number(el.dataset.node),
      role: el.dataset.role,
      status: el.dataset.status,
      term: Number(el.dataset.term),
      commit: Number(el.dataset.commitIndex),
      last: Number(el.dataset.lastIndex),
    })),
  );

const center = async (locator) => {
  const box = await locator.boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
};

/** A real drag: press on the node, move in steps, release at (x, y). */
async function drag(page, id, to) {
  const from = await center(stageNode(page, id).locator('circle').first());
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  const steps = 12;
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(from.x + ((to.x - from.x) * i) / steps, from.y + ((to.y - from.y) * i) / steps);
  }
  await page.mouse.up();
}

/** A point of the stage at least `clear` pixels from every node. */
async function emptySpot(page, clear = 140) {
  const stage = await page.locator('[data-stage]').boundingBox();
  const centers = [];
  for (const n of await nodes(page)) centers.push(await center(stageNode(page, n.id).locator('circle').first()));
  for (const fx of [0.92, 0.08, 0.5]) {
    for (const fy of [0.88, 0.12, 0.5]) {
      const p = { x: stage.x + stage.width * fx, y: stage.y + stage.height * fy };
      if (centers.every((c) => Math.hypot(c.x - p.x, c.y - p.y) >= clear)) return p;
    }
  }
  throw new Error('no empty spot on the stage');
}

async function setPlaying(page, playing) {
  const button = page.locator('button.play').first();
  const text = (await button.textContent()).trim();
  if (text.includes(playing ? 'Play' : 'Pause')) await button.click();
}

const speed = (page, log10) => page.getByLabel('Speed', { exact: true }).fill(String(log10));

/** Plays until `predicate(nodes)` holds, then pauses. */
async function playUntil(page, predicate, what, timeout = 60_000) {
  await setPlaying(page, true);
  const deadline = Date.now() + timeout;
  for (;;) {
    const state = await nodes(page);
    if (predicate(state)) break;
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}: ${JSON.stringify(state)}`);
    await page.waitForTimeout(100);
  }
  await setPlaying(page, false);
  return nodes(page);
}

async function shoot(page, name) {
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

test('Multi-Paxos: drag the leader away, a new one takes over, writes resume, heal, converge', { timeout: 300_000 }, async () => {
  const server = await serveDir(DIST);
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(server.url + LINK);
    await page.getByText('Multi-Paxos, 5 nodes').first().waitFor({ timeout: 30_000 });
    await speed(page, 1); // 10x real time

    // 1. A distinguished proposer wins phase 1.
    const elected = await playUntil(page, (ns) => ns.some((n) => n.role === 'leader'), 'a leader is elected');
    const old = elected.find((n) => n.role === 'leader');
    await shoot(page, 'paxos-elected');

    // 2. Drag it away, alone: a proposer on the majority side takes over with a higher round.
    await drag(page, old.id, await emptySpot(page));
    const split = await playUntil(
      page,
      (ns) => ns.some((n) => n.id !== old.id && n.role === 'leader' && n.term > old.term),
      'the majority side gets a new leader',
    );
    const fresh = split.find((n) => n.id !== old.id && n.role === 'leader');
    assert.ok(fresh.term > old.term, `the new leader's round ${fresh.term} is above the old ${old.term}`);
    await shoot(page, 'paxos-partitioned');

    // 3. A client write through the new leader is chosen: its chosen prefix rises.
    const before = fresh.commit;
    await stageNode(page, fresh.id).click();
    await page.getByRole('button', { name: new RegExp(`^Write k\\d+ = \\d+ through n${fresh.id}$`) }).click();
    await page.keyboard.press('Escape');
    const written = await playUntil(
      page,
      (ns) => {
        const f = ns.find((n) => n.id === fresh.id);
        return f.commit > before && f.commit >= f.last;
      },
      'the write through the new leader is chosen',
    );
    assert.ok(written.find((n) => n.id === fresh.id).commit > before);
    // The inspector shows the Paxos fields of the selected leader.
    await stageNode(page, fresh.id).click();
    await page.keyboard.press('Escape');
    await page.locator('[data-paxos-promised]').first().waitFor({ timeout: 10_000 }).catch(() => {});
    await shoot(page, 'paxos-written');

    // 4. Drag it back onto the new leader: healed; one leader, every node learns every slot.
    await drag(page, old.id, await center(stageNode(page, fresh.id).locator('circle').first()));
    const healed = await playUntil(
      page,
      (ns) =>
        ns.filter((n) => n.role === 'leader').length === 1 &&
        ns.every((n) => n.last === ns[0].last && n.commit === ns[0].last && n.last > 0),
      'every node learns the same slots',
    );
    assert.equal(healed.filter((n) => n.role === 'leader').length, 1, 'one leader after the heal');
    await shoot(page, 'paxos-healed');

    // The safety panel lists Paxos's properties, all holding.
    for (const name of ['Agreement', 'Validity', 'Learner Consistency']) {
      await page.getByText(name, { exact: false }).first().waitFor({ timeout: 10_000 });
    }
    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  } finally {
    await browser.close();
    await server.close();
  }
});

test('the protocol selector switches chapters and the link follows', { timeout: 120_000 }, async () => {
  const server = await serveDir(DIST);
  const browser = await launchBrowser();
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors = watchForErrors(page);
    await page.goto(server.url);
    await page.getByLabel('Protocol').selectOption('multi-paxos');
    await page.waitForFunction(() => location.search.includes('c=paxos'), null, { timeout: 30_000 });
    await page.locator('[data-stage] [data-role="leader"]').first().waitFor({ timeout: 60_000 });
    await page.getByLabel('Protocol').selectOption('raft');
    await page.waitForFunction(() => location.search.includes('c=raft'), null, { timeout: 30_000 });
    assert.deepEqual(errors, [], 'no errors were logged');
  } finally {
    await browser.close();
    await server.close();
  }
});
