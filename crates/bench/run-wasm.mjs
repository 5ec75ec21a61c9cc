// `cargo xtask bench` (wasm half): times the bench library built for wasm32 under Node,
// next to the same bare queue loop, so the wasm/native ratio compares like with like.
// Usage: node run-wasm.mjs path/to/deepend_bench.wasm
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const [wasmPath] = process.argv.slice(2);
const { instance } = await WebAssembly.instantiate(readFileSync(wasmPath), {});
const x = instance.exports;

const time = (f) => {
  const t = performance.now();
  const result = f();
  return [result, performance.now() - t];
};

const median = (xs) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const queueEvents = 20_000_000n;
const queueRate = median(
  [0, 1, 2, 3, 4].map(() => Number(queueEvents) / (time(() => x.bench_queue(queueEvents))[1] / 1000)),
);
console.log(`wasm bare event queue:  ${queueRate.toFixed(0).padStart(12)} events/s (median of 5)`);

const raftSecs = 300n;
for (const [label, bench] of [
  ['raft', x.bench_raft],
  ['multi-paxos', x.bench_multipaxos],
  ['generals om(2) n=7', x.bench_generals],
  ['clocks (9 nodes)', x.bench_clocks],
  ['cap cp store', x.bench_cap_cp],
  ['cap split brain', x.bench_cap_split_brain],
]) {
  let events = 0n;
  const rate = median(
    [0, 1, 2, 3, 4].map(() => {
      const [n, ms] = time(() => bench(raftSecs, 3n, 50));
      events = n;
      return Number(n) / (ms / 1000);
    }),
  );
  console.log(
    `wasm ${label}, trace off: ${rate.toFixed(0).padStart(12)} events/s (median of 5; ${events} events in ${raftSecs} simulated s; ` +
      `the bare queue is ${(queueRate / rate).toFixed(1)}x faster per event)`,
  );
}

for (const [i, scenario] of ['2pc', 'saga', 'idempotency'].entries()) {
  let events = 0n;
  const rate = median(
    [0, 1, 2, 3, 4].map(() => {
      const [n, ms] = time(() => x.bench_txn(i, raftSecs, 3n));
      events = n;
      return Number(n) / (ms / 1000);
    }),
  );
  console.log(`wasm txn ${scenario}, trace off: ${rate.toFixed(0).padStart(12)} events/s (median of 5; ${events} events in ${raftSecs} simulated s)`);
}

const [longEvents, longMs] = time(() => x.bench_long_run(600n, 20));
console.log(`wasm 10-minute run:     ${longEvents} events built in ${(longMs / 1000).toFixed(2)} s`);
let worst = 0;
let total = 0;
const seeks = 100;
for (let i = 0n; i < BigInt(seeks); i++) {
  const [, ms] = time(() => x.bench_seek((i * 7919n) % 600000n));
  worst = Math.max(worst, ms);
  total += ms;
}
console.log(`wasm seek in the 10-minute run: mean ${(total / seeks).toFixed(2)} ms, max ${worst.toFixed(2)} ms over ${seeks} seeks`);
