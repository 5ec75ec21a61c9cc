// Page benchmarks of the release bundle in headless Chromium: time to interactive, frame
// times with 9 nodes at top speed under client load, animation frames while paused or hidden,
// seek time, and (when dist/ has it) the clocks chapter's diagram with 2,000 events shown. Run by `cargo xtask bench` after `cargo xtask dist`. It measures and prints;
// nothing here passes or fails.

import { DIST, FRAME_TIMER, launchBrowser, serveDir } from './browser.mjs';
import { benchGenerals } from './bench-generals.mjs';
import { existsSync } from 'node:fs';
import path from 'node:path';

const percentile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))];
};
const simTime = (page) => page.locator('[data-sim-time-us]').getAttribute('data-sim-time-us').then(Number);
const frames = (page) => page.evaluate(() => window.__deepend?.frames ?? 0);

const server = await serveDir(DIST);
const browser = await launchBrowser();
try {
  // 1. Time to interactive: navigation until the stage is drawn and the first frame ran.
  const ttis = [];
  for (let i = 0; i < 5; i++) {
    const page = await browser.newPage();
    await page.goto(`${server.url}raft.html`);
    await page.waitForFunction(() => document.querySelector('[data-stage] [data-node]') && (window.__deepend?.frames ?? 0) > 0);
    ttis.push(await page.evaluate(() => performance.now()));
    await page.close();
  }
  console.log(`time to interactive: median ${percentile(ttis, 0.5).toFixed(0)} ms, max ${Math.max(...ttis).toFixed(0)} ms over 5 loads`);

  // 2. Frame times: 9 nodes, 20 client operations a second, at 100x. On a shared two-core
  // machine one 5 s run's p95 moves by a millisecond or more from run to run, so the figure is
  // the median over several runs, each on a fresh page after a second of warm-up.
  const RUNS = 5;
  const runs = [];
  let page;
  for (let i = 0; i < RUNS; i++) {
    await page?.close();
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.addInitScript(FRAME_TIMER);
    await page.goto(`${server.url}raft.html?c=raft&s=raft.91~0Gk`);
    await page.locator('[data-stage] [data-role="leader"]').first().waitFor({ timeout: 60_000 });
    await page.getByLabel('Speed', { exact: true }).fill('2');
    await page.waitForTimeout(1_000);
    await page.evaluate(() => window.__frameDurations.splice(0));
    await page.waitForTimeout(5_000);
    runs.push(await page.evaluate(() => window.__frameDurations.slice()));
  }
  const median = (xs) => percentile(xs, 0.5);
  console.log(
    `frame time, 9 nodes at 100x under load, median of ${RUNS} runs of 5 s: ` +
      `p50 ${median(runs.map((d) => percentile(d, 0.5))).toFixed(1)} ms, ` +
      `p95 ${median(runs.map((d) => percentile(d, 0.95))).toFixed(1)} ms ` +
      `(runs: ${runs.map((d) => percentile(d, 0.95).toFixed(1)).join(', ')}), ` +
      `max ${Math.max(...runs.flat()).toFixed(1)} ms over ${runs.flat().length} frames`,
  );

  // 3. Frames while paused and while hidden.
  await page.locator('button.play').first().click();
  const pausedFrom = await frames(page);
  await page.waitForTimeout(2_000);
  console.log(`animation frames in 2 s while paused: ${(await frames(page)) - pausedFrom}`);
  await page.locator('button.play').first().click();
  await page.evaluate(() => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => 'hidden' });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
    document.dispatchEvent(new Event('visibilitychange'));
  });
  await page.waitForTimeout(100);
  const hiddenFrom = await frames(page);
  await page.waitForTimeout(2_000);
  console.log(`animation frames in 2 s while hidden: ${(await frames(page)) - hiddenFrom}`);

  // 4. Seek: from the end of the run to spread-out earlier times, until the page shows them.
  const horizon = await simTime(page);
  const seeks = [];
  for (let i = 1; i <= 10; i++) {
    const target = Math.floor((horizon * ((i * 7) % 10)) / 10);
    const t0 = await page.evaluate(() => performance.now());
    await page.getByLabel('Simulated time').fill(String(target));
    await page.waitForFunction((t) => Number(document.querySelector('[data-sim-time-us]').dataset.simTimeUs) === t, target);
    seeks.push((await page.evaluate(() => performance.now())) - t0);
  }
  console.log(
    `seek in a ${(horizon / 1e6).toFixed(0)} s run, to the page showing it: median ${percentile(seeks, 0.5).toFixed(1)} ms, ` +
      `max ${Math.max(...seeks).toFixed(1)} ms over ${seeks.length} seeks`,
  );

  // 5. The generals chapter's OM(2) among seven generals at 1x (when its page is built).
  await benchGenerals(browser, server);
  // 6. The clocks chapter's space-time diagram: 9 nodes, the diagram full (2,000 events
  // shown), at 100x; the same median of p95 over runs as above.
  if (existsSync(path.join(DIST, 'clocks.html'))) await clocksFrames(browser, server, RUNS);
} finally {
  await browser.close();
  await server.close();
}

async function clocksFrames(browser, server, RUNS) {
  const runs = [];
  const shown = [];
  for (let i = 0; i < RUNS; i++) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.addInitScript(FRAME_TIMER);
    await page.goto(`${server.url}clocks.html?c=clocks&s=clocks.91~event-period.150ms`);
    await page.locator('[data-stage]').waitFor({ timeout: 60_000 });
    await page.getByLabel('Speed', { exact: true }).fill('2');
    // The page starts playing by itself.
    await page.waitForFunction(() => document.querySelectorAll('[data-diagram] [data-event]').length >= 2_000, null, {
      timeout: 120_000,
    });
    await page.evaluate(() => window.__frameDurations.splice(0));
    // How many events the diagram holds, every 250 ms: blocks out of view are drawn when the
    // browser is idle, so just after a redraw it holds fewer for a moment.
    for (let t = 0; t < 20; t++) {
      await page.waitForTimeout(250);
      shown.push(await page.locator('[data-diagram] [data-event]').count());
    }
    runs.push(await page.evaluate(() => window.__frameDurations.slice()));
    await page.close();
  }
  const median = (xs) => percentile(xs, 0.5);
  console.log(
    `clocks diagram frame time, 9 nodes at 100x with ${percentile(shown, 0.5)} events shown ` +
      `(${shown.filter((n) => n >= 2_000).length} of ${shown.length} samples at 2,000 or more), median of ${RUNS} runs of 5 s: ` +
      `p50 ${median(runs.map((d) => percentile(d, 0.5))).toFixed(1)} ms, ` +
      `p95 ${median(runs.map((d) => percentile(d, 0.95))).toFixed(1)} ms ` +
      `(runs: ${runs.map((d) => percentile(d, 0.95).toFixed(1)).join(', ')}), ` +
      `max ${Math.max(...runs.flat()).toFixed(1)} ms over ${runs.flat().length} frames`,
  );
}
