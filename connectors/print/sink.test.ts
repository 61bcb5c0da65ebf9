import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { testContext } from '../testing/context';
import { printSink } from './sink';

function capture(): { stream: Writable; writes: string[] } {
  const writes: string[] = [];
  const stream = new Writable({ write(chunk: Buffer, _e, cb) { writes.push(chunk.toString()); cb(); } });
  return { stream, writes };
}

describe('print sink', () => {
  it('prints JSON lines, one write per batch, without prefix at parallelism 1', async () => {
    const { stream, writes } = capture();
    const w = printSink({ stream }).createWriter(testContext());
    await w.open();
    await w.write([{ a: 1 }, 'x', 3], []);
    expect(writes).toEqual(['{"a":1}\n"x"\n3\n']);
    expect(await w.prepareCommit(1)).toBeNull();
    await w.commit([null]);
    await w.close();
  });

  it('prefixes the subtask number (from 1, as Flink) at parallelism > 1, and the name', async () => {
    const a = capture();
    const w = printSink({ stream: a.stream }).createWriter(testContext({ subtaskIndex: 2, parallelism: 4 }));
    await w.write([1, 2], []);
    expect(a.writes).toEqual(['3> 1\n3> 2\n']);
    const b = capture();
    const w2 = printSink({ stream: b.stream, prefix: 'out' }).createWriter(testContext({ subtaskIndex: 0, parallelism: 2 }));
    await w2.write([1], []);
    const c = capture();
    const w3 = printSink({ stream: c.stream, prefix: 'out' }).createWriter(testContext());
    await w3.write([1], []);
    expect(b.writes).toEqual(['out:1> 1\n']);
    expect(c.writes).toEqual(['out> 1\n']);
    expect(printSink().kind).toBe('print');
  });
});
