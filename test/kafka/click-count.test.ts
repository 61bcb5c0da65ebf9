/**
 * The click-count example in both forms (examples/click-count.ts and examples/click-count.yaml,
 * Flink's operations-playground job) through the real CLI against the mock Kafka broker: clicks
 * written with kcat, 15 s tumbling counts per page read back with kcat. Both forms must write the
 * same messages (values and keys), and those must equal the counts computed here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, canonical, rlink, tempDir } from '../helpers/cli';
import { kafkaTestGate, kcatConsume, kcatProduce, startMockBroker, type MockBroker } from './broker';

const kafka = await kafkaTestGate();

const PAGES = ['/index', '/shop', '/jobs', '/about', '/news', '/help'];
const START = Date.UTC(2026, 0, 1);

interface Click { timestamp: number | string; page: string }

/** Clicks per partition: event time increases with up to 150 ms of disorder (the jobs allow 200 ms); some as date strings. */
function clicks(partitions: number, perPartition: number): Click[][] {
  return Array.from({ length: partitions }, (_, p) => Array.from({ length: perPartition }, (_, i) => {
    const ts = START + i * 97 + p * 13 - ((i * 7919) % 150);
    return { timestamp: i % 10 === 3 ? new Date(ts).toISOString() : ts, page: PAGES[(i * 5 + p) % PAGES.length]! };
  }));
}

function expectedCounts(all: Click[]): Array<{ windowStart: number; windowEnd: number; page: string; count: number }> {
  const m = new Map<string, { windowStart: number; windowEnd: number; page: string; count: number }>();
  for (const c of all) {
    const ts = typeof c.timestamp === 'number' ? c.timestamp : Date.parse(c.timestamp);
    const ws = ts - (ts % 15_000);
    const k = `${c.page}@${ws}`;
    const a = m.get(k) ?? { windowStart: ws, windowEnd: ws + 15_000, page: c.page, count: 0 };
    a.count++;
    m.set(k, a);
  }
  return [...m.values()];
}

describe.skipIf(!kafka.ok)('the click-count example, as TypeScript and as YAML (mock broker)', () => {
  let broker: MockBroker;
  const dirs: string[] = [];
  beforeAll(async () => { broker = await startMockBroker(); });
  afterAll(async () => {
    await broker?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('both forms write the same counts, keyed by page, equal to the expected computation', async () => {
    await broker.createTopic('input', 2);
    await broker.createTopic('output-ts', 2);
    await broker.createTopic('output-yaml', 2);
    const data = clicks(2, 600);
    for (let p = 0; p < 2; p++) await kcatProduce(broker.bootstrap, 'input', [...data[p]!.map((c) => JSON.stringify(c)), ...(p === 0 ? ['{"timestamp":"never","page":"/x"}'] : [])], { partition: p });

    const outputs: Record<string, Array<{ key: string; value: unknown }>> = {};
    for (const form of ['ts', 'yaml'] as const) {
      const d = tempDir('rlink-click-count-');
      dirs.push(d);
      const r = await rlink(['run', join(ROOT, 'examples', `click-count.${form}`), `brokers=${broker.bootstrap}`, 'bounded=latest',
        `output-topic=output-${form}`, `transactional-id-prefix=click-count-${form}`, 'checkpoint.interval=300ms', `checkpoint.dir=${join(d, 'cp')}`],
      { cwd: d, timeoutMs: 90_000 });
      if (r.exitCode !== 0) throw new Error(`rlink run click-count.${form} exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr.slice(-4000)}`);
      expect(r.stdout).toMatch(/FINISHED click-count in [\d.]+s: 1200 records in/);
      expect(r.stdout).toContain('1 invalid records skipped'); // the schema refuses the click whose timestamp is 'never'
      const lines = await kcatConsume(broker.bootstrap, `output-${form}`, { format: '%k %s\n' });
      outputs[form] = lines.map((l) => { const i = l.indexOf(' '); return { key: l.slice(0, i), value: JSON.parse(l.slice(i + 1)) }; });
    }
    const expected = expectedCounts(data.flat());
    expect(expected.length).toBeGreaterThan(20);
    expect(canonical(outputs.ts!.map((o) => o.value))).toEqual(canonical(expected));
    // The same messages, fields in the same order, the same keys.
    expect(outputs.yaml!.map((o) => `${o.key} ${JSON.stringify(o.value)}`).sort()).toEqual(outputs.ts!.map((o) => `${o.key} ${JSON.stringify(o.value)}`).sort());
    for (const o of outputs.yaml!) expect(o.key).toBe((o.value as { page: string }).page);
  }, 180_000);
});
