// The generals chapter, as a reader uses it, against the release bundle in headless Chromium:
// mark a traitor through the node menu and see OM(1) fail with three generals and hold with
// four; capture the last messenger in Two Generals and see them disagree; fill cells of the
// n >= 3m+1 table and run the disagreement chart, computed in the page.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { nodes, playUntil, setPlaying, shoot, speed, stageNode } from './stage.mjs';

/** OM(1) with `n` generals; the loyal commander always orders attack, traitors say retreat. */
const om = (n) => `?c=generals&s=generals.${n}1~mode.om~order.attack~strategy.retreat`;

const violated = (page, name) => page.locator('.prop.violated .prop-name', { hasText: new RegExp(`^${name}$`) });

/** Opens node `id`'s menu with a real click and marks it a traitor. */
async function markTraitor(page, id) {
  await stageNode(page, id).locator('circle').first().click();
  await page.getByRole('button', { name: `Mark as traitor (from the next campaign) (n${id})` }).click();
  await page.keyboard.press('Escape');
}

test('mark a traitor from the node menu: OM(1) breaks with three generals, holds with four', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    const errors = watchForErrors(page);

    // Three generals: lieutenant 3 turns traitor; lieutenant 2 hears attack and retreat, a tie,
    // and retreats against a loyal commander's attack.
    await page.goto(`${server.url}generals.html${om(3)}`);
    await stageNode(page, 3).waitFor({ timeout: 30_000 });
    assert.equal(await stageNode(page, 3).getAttribute('data-traitor'), 'false');
    assert.equal(await stageNode(page, 1).getAttribute('data-role'), 'commander');
    assert.equal(await stageNode(page, 2).getAttribute('data-role'), 'lieutenant');
    await markTraitor(page, 3);
    assert.equal(await stageNode(page, 3).getAttribute('data-traitor'), 'true', 'the mark shows at once');
    assert.equal(await stageNode(page, 3).locator('.st-body').evaluate((el) => el.tagName), 'path', 'a traitor is a diamond');
    // Marked before the first campaign starts, it lies from campaign 1 on; the lab pauses at
    // the violation.
    await speed(page, 1);
    await setPlaying(page, true);
    await violated(page, 'IC2').waitFor({ timeout: 60_000 });
    await setPlaying(page, false);
    assert.equal(await page.locator('[data-general="2"]').getAttribute('data-decision'), 'retreat');
    assert.equal(await page.locator('[data-general="1"]').getAttribute('data-decision'), 'attack');
    await shoot(page, 'generals-om-n3-traitor');

    // Four generals, the same traitor: two loyal voices outvote it, campaign after campaign.
    await page.goto(`${server.url}generals.html${om(4)}`);
    await stageNode(page, 4).waitFor({ timeout: 30_000 });
    await markTraitor(page, 3);
    await speed(page, 1);
    const later = await playUntil(page, (ns) => ns[0].term >= 5, 'five campaigns pass');
    assert.ok(later[0].term >= 5);
    assert.equal(await page.locator('.prop.violated').count(), 0, 'IC1 and IC2 hold');
    for (const id of [2, 4]) {
      assert.equal(await page.locator(`[data-general="${id}"]`).getAttribute('data-decision'), 'attack', `n${id} obeys`);
    }
    assert.equal(await page.locator('[data-general="3"]').getAttribute('data-traitor'), 'true');
    // The rounds as layers: lieutenant 2 heard the order in round 1 and two relays in round 2.
    assert.equal(await page.locator('.gen-layer[data-round="1"] .gen-chip').count(), 1);
    assert.equal(await page.locator('.gen-layer[data-round="2"] .gen-chip').count(), 2);
    assert.equal(await page.locator('[data-formula]').getAttribute('data-formula'), '9', 'OM(1) with n = 4: 3 + 6');
    assert.equal(await page.locator('[data-sent-last]').getAttribute('data-sent-last'), '9');
    await shoot(page, 'generals-om-n4-traitor');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('Two Generals: capture the last messenger and the generals disagree', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1300 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}generals.html?c=generals&s=generals.21~mode.two-generals~k.2`);
    await stageNode(page, 2).waitFor({ timeout: 30_000 });
    assert.equal(await stageNode(page, 1).getAttribute('data-role'), 'general');
    await speed(page, 1);
    await playUntil(page, (ns) => ns[0].term >= 2, 'a campaign passes');
    assert.equal(await page.locator('.prop.violated').count(), 0, 'a reliable valley: they agree');
    assert.equal(await page.locator('[data-general="2"]').getAttribute('data-decision'), 'attack');
    await page.getByRole('button', { name: 'Capture the last messenger' }).click();
    // The run restarts with the capture in its script (and its link).
    await page.waitForFunction(() => /Y[0-9a-z]+/.test(decodeURIComponent(location.search)), null, { timeout: 10_000 });
    await setPlaying(page, true);
    await violated(page, 'Agreement').waitFor({ timeout: 60_000 });
    await setPlaying(page, false);
    await page.locator('.events').getByText(/dropped \(captured\)/).first().waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-general="1"]').getAttribute('data-decision'), 'attack');
    assert.equal(await page.locator('[data-general="2"]').getAttribute('data-decision'), 'retreat');
    await shoot(page, 'generals-two-captured');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('the n >= 3m+1 table and the disagreement chart are computed in the page', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}generals.html${om(4)}`);
    await stageNode(page, 4).waitFor({ timeout: 30_000 });
    for (const [cell, result] of [['om-3-1', 'breaks'], ['om-4-1', 'holds'], ['sm-3-1', 'holds'], ['om-6-2', 'breaks'], ['om-7-2', 'holds']]) {
      await page.locator(`[data-cell="${cell}"] button`).click();
      await page.locator(`[data-cell="${cell}"][data-result="${result}"]`).waitFor({ timeout: 60_000 });
    }
    await shoot(page, 'generals-bound-table');

    // "Find a failing run" with three loyal generals tries a traitor per seed, and plays the
    // first seed that breaks IC1 or IC2.
    await page.goto(`${server.url}generals.html?c=generals&s=generals.31~mode.om~strategy.random`);
    await stageNode(page, 3).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Find a failing run' }).click();
    await page.locator('.gen-status', { hasText: /breaks IC/ }).waitFor({ timeout: 60_000 });
    await page.waitForFunction(() => /traitors\./.test(decodeURIComponent(location.search)), null, { timeout: 10_000 });
    assert.equal(await page.locator('[data-stage] [data-traitor="true"]').count(), 1, 'the found run has one traitor');
    await speed(page, 1);
    await setPlaying(page, true);
    await page.locator('.prop.violated').first().waitFor({ timeout: 60_000 });
    await setPlaying(page, false);

    // The chart: 18 points, every one above zero.
    await page.goto(`${server.url}generals.html?c=generals&s=generals.21~mode.two-generals`);
    await stageNode(page, 2).waitFor({ timeout: 30_000 });
    await page.getByRole('button', { name: 'Run the sweep' }).click();
    await page.locator('.gen-chart .gen-status', { hasText: 'done' }).waitFor({ timeout: 120_000 });
    const points = await page.locator('.gen-dot').evaluateAll((els) => els.map((e) => Number(e.dataset.disagree)));
    assert.equal(points.length, 18);
    assert.ok(points.every((p) => p > 0), `every point disagrees sometimes: ${points}`);
    await shoot(page, 'generals-chart');
    const state = await nodes(page);
    assert.equal(state.length, 2);
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});
