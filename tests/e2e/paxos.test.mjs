// The Paxos chapter of the lab, as a reader uses it, against the release bundle in headless
// Chromium: Multi-Paxos elects a distinguished proposer; a real pointer drag cuts it off; the
// majority side's proposer takes over with a higher ballot round; a client write through it is
// chosen; dragging back heals, and every node learns the same slots.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { center, drag, emptySpot, nodes, playUntil, setPlaying, shoot, simTimeUs, speed, stageNode } from './stage.mjs';

// Multi-Paxos, five nodes, seed 1, no client load (so that logs settle and converge).
const LINK = '?c=paxos&s=paxos.51~mode.multi';

test('Multi-Paxos: drag the leader away, a new one takes over, writes resume, heal, converge', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1100 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}paxos.html${LINK}`);
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
  });
});

test('the protocol selector switches chapters and the link follows', { timeout: 120_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
    const errors = watchForErrors(page);
    await page.goto(`${server.url}raft.html`);
    await page.getByLabel('Protocol').selectOption('multi-paxos');
    await page.waitForFunction(() => location.search.includes('c=paxos'), null, { timeout: 30_000 });
    await page.locator('[data-stage] [data-role="leader"]').first().waitFor({ timeout: 60_000 });
    await page.getByLabel('Protocol').selectOption('raft');
    await page.waitForFunction(() => location.search.includes('c=raft'), null, { timeout: 30_000 });
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});
