// The transactions chapter of the lab, as a reader uses it, against the release bundle in
// headless Chromium: in two-phase commit, crash the coordinator between the phases and see the
// participants blocked, holding their locks, with the next transaction waiting; restart it and
// see presumed abort. In payments, capture the service's "paid" on its way: without a key the
// retry charges the card twice, with a key (pending-first) once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchForErrors, withBrowser } from './browser.mjs';
import { setPlaying, shoot, speed, stageNode } from './stage.mjs';

// Five nodes, seed 1, a slow network (100ms) so that the phases are far apart.
const TWO_PC = '?c=txn&s=txn.51~scenario.2pc~latency.100ms..100ms';
const PAY = (design) => `?c=txn&s=txn.51~scenario.idempotency~design.${design}~latency.100ms..100ms`;

/** Opens node `id`'s menu with a real click and presses the button named `name`. */
async function menuAction(page, id, name) {
  await stageNode(page, id).locator('circle').first().click();
  await page.getByRole('button', { name }).click();
  await page.keyboard.press('Escape');
  // A button that disables itself (Crash) takes the focus, and Escape, out of the menu.
  const close = page.getByRole('button', { name: `Close the menu of n${id}` });
  if (await close.count()) await close.click();
}

/** Steps event by event (the Step button) until `predicate()` holds. */
async function stepUntil(page, predicate, what, max = 400) {
  const step = page.getByRole('button', { name: 'Step to the next event' });
  for (let i = 0; i < max; i++) {
    if (await predicate()) return;
    await step.click();
  }
  throw new Error(`stepped ${max} events without ${what}`);
}

/** Plays until `predicate()` holds, then pauses. (Play is pressed again if a click right
 * after another action did not start it.) */
async function playUntil(page, predicate, what, timeout = 60_000) {
  const deadline = Date.now() + timeout;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await setPlaying(page, true);
    await page.waitForTimeout(100);
  }
  await setPlaying(page, false);
}

const attr = (page, selector, name) => page.locator(selector).first().getAttribute(name);
const participants = [2, 3, 4];
const allLocked = (page) =>
  Promise.all(participants.map((id) => attr(page, `[data-stage] [data-node="${id}"]`, 'data-locks'))).then((l) =>
    l.every((n) => n === '1'),
  );

test('2PC: crash the coordinator between the phases, the participants block with their locks', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}txn.html${TWO_PC}`);
    await page.locator('[data-txn-panel="2pc"]').waitFor({ timeout: 30_000 });
    await setPlaying(page, false);
    await speed(page, 0);

    // The roles of the DOM contract, and services drawn apart.
    assert.equal(await attr(page, '[data-stage] [data-node="1"]', 'data-role'), 'coordinator');
    assert.equal(await attr(page, '[data-stage] [data-node="2"]', 'data-role'), 'participant');
    assert.equal(await attr(page, '[data-stage] [data-node="5"]', 'data-role'), 'client');

    // 1. The client begins two transactions on row 1, from its menu.
    await menuAction(page, 5, 'Client: begin (a transaction on row 1, an order, a payment) (n5)');
    await menuAction(page, 5, 'Client: begin (a transaction on row 1, an order, a payment) (n5)');
    await page.locator('[data-tx="2"]').waitFor({ timeout: 10_000 });

    // 2. Step until every participant has prepared t1 and holds its lock: the votes are on
    //    their way to the coordinator, which has not decided.
    await stepUntil(page, () => allLocked(page), 'every participant holding a lock');
    assert.equal(await attr(page, '[data-tx="1"]', 'data-outcome'), 'pending');

    // 3. Crash the coordinator from its menu, before the votes arrive.
    await menuAction(page, 1, 'Crash n1');
    assert.equal(await attr(page, '[data-stage] [data-node="1"]', 'data-status'), 'crashed');

    // 4. Play: the participants ask, nobody answers: t1 is blocked, its locks held, and t2
    //    waits in each row's queue, its age growing.
    await playUntil(
      page,
      async () => (await attr(page, '[data-tx="1"]', 'data-outcome')) === 'blocked',
      't1 is blocked',
    );
    await playUntil(
      page,
      async () => (await page.locator('[data-txn-panel] tr[data-row="1"][data-holder="t1"][data-waiting="1"]').count()) === 3,
      't2 waits behind t1 at every participant',
    );
    for (const id of participants) {
      assert.equal(await attr(page, `[data-stage] [data-node="${id}"]`, 'data-blocked'), 'true', `n${id} is blocked`);
      assert.equal(await attr(page, `[data-stage] [data-node="${id}"]`, 'data-locks'), '1', `n${id} holds its lock`);
    }
    await shoot(page, 'txn-2pc-blocked');

    // 5. Restart the coordinator: its log has no decision for t1, so it presumes abort; the
    //    locks are freed.
    await menuAction(page, 1, 'Restart n1');
    await playUntil(
      page,
      async () => (await attr(page, '[data-tx="1"]', 'data-outcome')) === 'aborted',
      't1 is aborted after the restart',
    );
    await playUntil(
      page,
      async () => (await page.locator('[data-txn-panel] tr[data-row="1"][data-holder=""]').count()) === 3,
      'every row 1 lock is free',
    );
    await shoot(page, 'txn-2pc-recovered');

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

/** Pays once, captures the first "paid" on its way with real clicks, and plays on. */
async function payAndCapture(page) {
  await page.locator('[data-txn-panel="idempotency"]').waitFor({ timeout: 30_000 });
  await setPlaying(page, false);
  await speed(page, 0);
  await menuAction(page, 5, 'Client: begin (a transaction on row 1, an order, a payment) (n5)');
  const reply = page.locator('[data-stage] [data-msg]', { has: page.locator('title', { hasText: 'PayReply' }) });
  await stepUntil(page, async () => (await reply.count()) > 0, 'a PayReply in flight');
  // Play slowly for a moment so that the messenger is on its way, away from the node, then
  // click it.
  await speed(page, -1.5);
  await setPlaying(page, true);
  await page.waitForTimeout(1200);
  await setPlaying(page, false);
  await speed(page, 0);
  const box = await reply.first().boundingBox();
  assert.ok(box, 'the messenger is drawn');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
  await page.getByRole('button', { name: 'Capture this message' }).click();
  await playUntil(
    page,
    async () => ['committed', 'aborted'].includes(await attr(page, '[data-tx="1"]', 'data-outcome')),
    'the payment is settled',
  );
}

test('payments: a captured "paid" charges twice without a key and once with one', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);

    await page.goto(`${server.url}txn.html${PAY('none')}`);
    await payAndCapture(page);
    assert.equal(await attr(page, '[data-tx="1"]', 'data-charges'), '2', 'charged twice without a key');
    await page.getByText('Exactly-Once Charge').first().waitFor({ timeout: 10_000 });
    await shoot(page, 'txn-pay-none');

    await page.goto(`${server.url}txn.html${PAY('pending-first')}`);
    await payAndCapture(page);
    assert.equal(await attr(page, '[data-tx="1"]', 'data-outcome'), 'committed');
    assert.equal(await attr(page, '[data-tx="1"]', 'data-charges'), '1', 'charged once with a key');
    await shoot(page, 'txn-pay-pending-first');

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});

test('saga: a failed shipment is compensated, and the money is visibly taken meanwhile', { timeout: 300_000 }, async () => {
  await withBrowser(async (browser, server) => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1300 } });
    const page = await context.newPage();
    const errors = watchForErrors(page);
    await page.goto(`${server.url}txn.html?c=txn&s=txn.51~scenario.saga~latency.100ms..100ms`);
    await page.locator('[data-txn-panel="saga"]').waitFor({ timeout: 30_000 });
    await setPlaying(page, false);
    await speed(page, 0);
    assert.equal(await attr(page, '[data-stage] [data-node="3"]', 'data-role'), 'service');

    // Shipping will fail its next step; the client places an order.
    await menuAction(page, 4, "Fail this node's next step (n4)");
    await menuAction(page, 5, 'Client: begin (a transaction on row 1, an order, a payment) (n5)');

    // No isolation: the money is taken while the order is neither shipped nor cancelled.
    const cells = () => page.locator('[data-tx="1"] td').allTextContents();
    await stepUntil(page, async () => (await cells()).includes('money taken'), 'the payment is taken');
    assert.equal(await attr(page, '[data-tx="1"]', 'data-outcome'), 'pending');
    await shoot(page, 'txn-saga-money-taken');

    // The shipment fails: refund, then release the stock; the order is compensated.
    await playUntil(
      page,
      async () => (await attr(page, '[data-tx="1"]', 'data-outcome')) === 'compensated',
      'the order is compensated',
    );
    const end = await cells();
    for (const want of ['stock released', 'refunded', 'failed']) assert.ok(end.includes(want), `${want} in ${end}`);
    await shoot(page, 'txn-saga-compensated');

    assert.equal(await page.locator('[data-panic]').count(), 0, 'no panic overlay');
    assert.deepEqual(errors, [], 'no errors were logged');
  });
});
