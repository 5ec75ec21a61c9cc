// Page benchmark of the generals chapter: OM(2) among seven generals (two traitors lying at
// random, 156 messages a campaign in three rounds) played at 1x for 10 s, counting frames that
// took longer than a 60 Hz frame (16.7 ms) from the animation callback to the end of Yew's
// render. `bench-page.mjs` runs it when dist/ holds generals.html; alone:
// `node tests/e2e/bench-generals.mjs` after `cargo xtask dist --only generals`.
// It measures and prints; nothing here passes or fails.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DIST, FRAME_TIMER, launchBrowser, serveDir } from './browser.mjs';

export async function benchGenerals(browser, server) {
  if (!fs.existsSync(path.join(DIST, 'generals.html'))) return;
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.addInitScript(FRAME_TIMER);
  await page.goto(`${server.url}generals.html?c=generals&s=generals.71~mode.om~m.2~strategy.random~traitors.1_2C5`);
  await page.locator('[data-stage] [data-node="7"]').waitFor({ timeout: 60_000 });
  await page.getByLabel('Speed', { exact: true }).fill('0');
  const play = page.locator('button.play').first();
  if ((await play.textContent()).includes('Play')) await play.click();
  await page.waitForTimeout(1_000);
  await page.evaluate(() => window.__frameDurations.splice(0));
  await page.waitForTimeout(10_000);
  const d = await page.evaluate(() => window.__frameDurations.slice());
  const s = [...d].sort((a, b) => a - b);
  const p = (q) => s[Math.min(s.length - 1, Math.floor((s.length - 1) * q))];
  const long = d.filter((x) => x > 1000 / 60).length;
  console.log(
    `generals, OM(2) n=7 at 1x for 10 s: ${d.length} frames, p50 ${p(0.5).toFixed(1)} ms, p95 ${p(0.95).toFixed(1)} ms, ` +
      `max ${s[s.length - 1].toFixed(1)} ms, ${long} over 16.7 ms`,
  );
  await page.close();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const server = await serveDir(DIST);
  const browser = await launchBrowser();
  try {
    await benchGenerals(browser, server);
  } finally {
    await browser.close();
    await server.close();
  }
}
