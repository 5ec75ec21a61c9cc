// What the lab's browser tests do to the stage, as a reader would: read every node's state
// from the DOM contract, drag nodes with real pointer events, play until something holds.

import fs from 'node:fs/promises';
import path from 'node:path';
import { SCREENSHOTS } from './browser.mjs';

export const stageNode = (page, id) => page.locator(`[data-stage] [data-node="${id}"]`);
export const simTimeUs = (page) => page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us').then(Number);

/** Every node's state as the stage shows it. */
export const nodes = (page) =>
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

export const center = async (locator) => {
  const box = await locator.boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
};

/** A real drag: press on the node, move in steps, release at (x, y). */
export async function drag(page, id, to) {
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
export async function emptySpot(page, clear = 140) {
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

export async function setPlaying(page, playing) {
  const button = page.locator('button.play').first();
  const text = (await button.textContent()).trim();
  if (text.includes(playing ? 'Play' : 'Pause')) await button.click();
}

export const speed = (page, log10) => page.getByLabel('Speed', { exact: true }).fill(String(log10));

/** Plays until `predicate(nodes)` holds, then pauses. */
export async function playUntil(page, predicate, what, timeout = 60_000) {
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

export async function shoot(page, name) {
  await fs.mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
