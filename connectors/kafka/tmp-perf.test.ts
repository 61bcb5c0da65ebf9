import { it } from 'vitest';
import { testContext } from '../testing/context';
import { kcatProduce, startMockBroker } from '../../test/kafka/broker.js';
import { kafkaSource } from './source';
import kafkajs from 'kafkajs';

it('perf', async () => {
  const broker = await startMockBroker({ topics: [{ name: 'perf', partitions: 3 }] });
  const N = 100_000;
  for (let p = 0; p < 3; p++) {
    const lines = Array.from({ length: N }, (_, i) => JSON.stringify({ user: `u${i % 100}`, ts: 1767225600000 + i, amount: i % 1000, pad: 'x'.repeat(50) }));
    await kcatProduce(broker.bootstrap, 'perf', lines, { partition: p, timeoutMs: 120_000 });
  }
  for (let rep = 0; rep < 2; rep++) {
    const r = kafkaSource({ brokers: broker.bootstrap, topic: 'perf', bounded: 'latest' }).createReader(testContext());
    const t0 = Date.now();
    await r.open();
    let n = 0; let idles = 0;
    for (;;) {
      const x = await r.poll(1000);
      if (x.kind === 'end') break;
      if (x.kind === 'idle') { idles++; await new Promise((res) => setTimeout(res, x.waitMs)); continue; }
      if (x.kind === 'records') n += x.values.length;
    }
    const ms = Date.now() - t0;
    console.log(`rlink reader: ${n} in ${ms} ms = ${Math.round(n / ms * 1000)}/s, idles ${idles}`);
    await r.close();
    // raw kafkajs consumer
    const k = new kafkajs.Kafka({ brokers: [broker.bootstrap], logLevel: 1 });
    const c = k.consumer({ groupId: `raw-${rep}` });
    await c.connect();
    await c.subscribe({ topic: 'perf', fromBeginning: true });
    const t1 = Date.now();
    let m = 0;
    await new Promise<void>((resolve) => {
      void c.run({ eachBatch: async ({ batch }) => { for (const msg of batch.messages) { JSON.parse(msg.value!.toString()); m++; } if (m >= 3 * N) resolve(); } });
    });
    const ms2 = Date.now() - t1;
    console.log(`raw kafkajs: ${m} in ${ms2} ms = ${Math.round(m / ms2 * 1000)}/s`);
    await c.disconnect();
  }
  await broker.stop();
}, 300_000);
