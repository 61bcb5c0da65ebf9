/**
 * Byte fixtures of the wire contract (as kafkajs keeps fixtures per protocol version): every data
 * frame kind and every control message kind, as they are on the wire today. A change of the format
 * fails here: then bump DATA_FRAME_VERSION / PROTOCOL_VERSION, and regenerate the fixtures on purpose
 * with `RLINK_UPDATE_FIXTURES=1 npx vitest run core/protocol/fixtures.test.ts`.
 */
import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DATA_FRAME_VERSION, decodeFrame, encodeFrame, encodeRecordsFrame, type PortMessage } from './data-frames';
import { PROTOCOL_VERSION, parseJobManagerMessage, parseTaskManagerMessage, type JobManagerToTaskManager, type TaskManagerToJobManager } from './control-messages';
import { encodeBatch, decodeBatch } from '../runtime/network/batch-codec';
import { channelId, parseWireChannelId, wireChannelId } from './channel-ids';

const UPDATE = process.env.RLINK_UPDATE_FIXTURES === '1';
const DIR = join(import.meta.dirname, 'fixtures');

/** The fixture file's content: written when updating, else read. */
function fixtures<T>(name: string, make: () => T): T {
  const path = join(DIR, name);
  if (UPDATE || !existsSync(path)) {
    if (!UPDATE) throw new Error(`missing fixture ${path}: run with RLINK_UPDATE_FIXTURES=1 once`);
    writeFileSync(path, `${JSON.stringify(make(), null, 2)}\n`);
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

const wire = wireChannelId('9c2482fa8a7a7692abf0546facea6431', 2, channelId('window-aggregate-9daad2bb.in0', 1, 0));

/** One message of every frame kind (and every batch form but the v8.serialize fallback, whose bytes are Node's). */
function frameMessages(): Record<string, PortMessage> {
  const recs = [{ key: 'a', ts: 1_767_225_600_000, value: 1.5, ok: true }, { key: 'bé🙂', ts: 1_767_225_600_001, value: -2, ok: false }];
  return {
    'credit': { c: 32 },
    'element-watermark': { e: { kind: 'watermark', timestamp: 1_767_225_599_999 } },
    'element-watermark-infinity': { e: { kind: 'watermark', timestamp: Number.POSITIVE_INFINITY } },
    'element-status': { e: { kind: 'status', idle: true } },
    'element-barrier': { e: { kind: 'barrier', checkpointId: 7, timestamp: 1_767_225_600_123, savepoint: false, target: '/data/rlink/checkpoints/9c24/chk-7' } },
    'element-end': { e: { kind: 'end' } },
    'batch-columns': { b: encodeBatch(recs, recs.map((r) => r.ts)) },
    'batch-numbers': { b: encodeBatch([1, 2.5, -3], [10, 20, 30]) },
    'batch-strings': { b: encodeBatch(['x', 'yé', ''], [1, 2, 3]) },
  };
}

/** Records whose strings are all Latin-1: the network encodes them straight into a frame (se 'l1'). */
const latin1Records = [{ key: 'a', ts: 1_767_225_600_000, value: 1.5, ok: true }, { key: 'bé\u00ff', ts: 1_767_225_600_001, value: -2, ok: false }];
const recordsFrame = (): Buffer => encodeRecordsFrame(wire, latin1Records, latin1Records.map((r) => r.ts))!.frame;

describe('data frame fixtures (version %i)'.replace('%i', String(DATA_FRAME_VERSION)), () => {
  const messages = frameMessages();
  const saved = fixtures<Record<string, { channel: string; hex: string }>>(`data-frames.v${DATA_FRAME_VERSION}.json`, () => ({
    ...Object.fromEntries(Object.entries(messages).map(([k, m]) => [k, { channel: wire, hex: encodeFrame(wire, m).toString('hex') }])),
    'records-latin1': { channel: wire, hex: recordsFrame().toString('hex') },
  }));

  it('has a fixture for every kind, and nothing else', () => {
    expect(Object.keys(saved).sort()).toEqual([...Object.keys(messages), 'records-latin1'].sort());
  });

  it('records-latin1: a batch encoded in place gives the fixture\'s bytes and decodes to its records', () => {
    expect(recordsFrame().toString('hex')).toBe(saved['records-latin1']!.hex);
    const back = decodeFrame(Buffer.from(saved['records-latin1']!.hex, 'hex'));
    expect(decodeBatch((back.message as { b: Parameters<typeof decodeBatch>[0] }).b)).toEqual({ values: latin1Records, timestamps: latin1Records.map((r) => r.ts) });
  });

  for (const [name, m] of Object.entries(messages)) {
    it(`${name}: encodes to the fixture's bytes and decodes from them`, () => {
      const f = saved[name]!;
      expect(encodeFrame(f.channel, m).toString('hex')).toBe(f.hex);
      const back = decodeFrame(Buffer.from(f.hex, 'hex'));
      expect(back.channelId).toBe(wire);
      if ('b' in m) expect(decodeBatch((back.message as { b: typeof m.b }).b)).toEqual(decodeBatch(m.b));
      else expect(back.message).toEqual(m);
    });
  }

  it('the fixtures carry an attempt-scoped channel id that parses back', () => {
    expect(parseWireChannelId(wire)).toEqual({ jobId: '9c2482fa8a7a7692abf0546facea6431', attempt: 2, channel: 'window-aggregate-9daad2bb.in0#1>0' });
  });
});

const subtask = { vertex: 'window-aggregate-9daad2bb', index: 1 };
const metrics = { recordsIn: 10, recordsOut: 9, recordsWritten: 0, bytesIn: 350, bytesOut: 300, recordsInvalid: 0, lateRecordsDropped: 1, backpressureMs: 5, watermark: 1_767_225_599_999 };
const jobGraph = {
  jobName: 'rlink-simple', maxParallelism: 128, watermarkSlack: 0,
  vertices: [
    { id: 'source-e2df1a57', name: 'Source: generator', parallelism: 1, nodes: ['source-e2df1a57'], inputs: [] },
    { id: 'window-aggregate-9daad2bb', name: 'Window → Sink: file', parallelism: 2, nodes: ['window-aggregate-9daad2bb', 'sink-a14d6f70'],
      inputs: [{ id: 'window-aggregate-9daad2bb.in0', sourceVertex: 'source-e2df1a57', sourceNode: 'source-e2df1a57', targetVertex: 'window-aggregate-9daad2bb', targetNode: 'window-aggregate-9daad2bb', partitioning: 'hash' as const }] },
  ],
};

/** One message of every control message kind, in both directions. */
function controlMessages(): { toJobManager: TaskManagerToJobManager[]; toTaskManager: JobManagerToTaskManager[] } {
  const jobId = '9c2482fa8a7a7692abf0546facea6431';
  return {
    toJobManager: [
      { type: 'register', taskManagerId: 'tm-host-1a2b3c', slots: 2, version: PROTOCOL_VERSION, dataAddress: 'ws://10.0.0.5:40123' },
      { type: 'heartbeat', taskManagerId: 'tm-host-1a2b3c' },
      { type: 'task-state', jobId, attempt: 2, subtask, state: 'FAILED', error: { code: 'RLINK_TASK_FAILED', message: 'boom' } },
      { type: 'final-ready', jobId, attempt: 2, subtask },
      { type: 'metrics', jobId, attempt: 2, tasks: [{ subtask, name: 'Window → Sink: file (2/2)', state: 'RUNNING', metrics }] },
      { type: 'checkpoint-ack', jobId, attempt: 2, checkpointId: 7, subtask, path: '/data/rlink/checkpoints/9c24/chk-7/window-aggregate-9daad2bb-1.json', bytes: 1234 },
      { type: 'checkpoint-declined', jobId, attempt: 2, checkpointId: 7, subtask, reason: 'cannot write' },
    ],
    toTaskManager: [
      { type: 'registered', leaderEpoch: 3, jobManagerId: 'jm-1a2b3c4d' },
      {
        type: 'deploy', jobId, attempt: 2, app: { kind: 'bundle', path: '/data/rlink/app.mjs', hash: 'ab'.repeat(32) }, props: { input: '/data/in.jsonl' },
        slots: [{ slot: 0, subtasks: [{ vertex: 'source-e2df1a57', index: 0 }, { vertex: 'window-aggregate-9daad2bb', index: 0 }] }],
        jobGraph, graphFingerprint: 'f'.repeat(32),
        placement: [{ taskManagerId: 'tm-host-1a2b3c', assignments: [{ slot: 0, subtasks: [{ vertex: 'source-e2df1a57', index: 0 }, { vertex: 'window-aggregate-9daad2bb', index: 0 }] }] },
          { taskManagerId: 'tm-host-4d5e6f', assignments: [{ slot: 0, subtasks: [subtask] }] }],
        dataAddresses: { 'tm-host-1a2b3c': 'ws://10.0.0.5:40123', 'tm-host-4d5e6f': 'ws://10.0.0.6:40123' }, batchSize: 1024,
        restore: { checkpointId: 6, metadataPath: '/data/rlink/checkpoints/9c24/chk-6/_metadata' },
      },
      { type: 'cancel', jobId, attempt: 2 },
      { type: 'checkpoint-complete', jobId, attempt: 2, checkpointId: 7 },
      { type: 'trigger-checkpoint', jobId, attempt: 2, checkpointId: 7, timestamp: 1_767_225_600_123, savepoint: false, target: '/data/rlink/checkpoints/9c24/chk-7' },
      { type: 'end-input', jobId, attempt: 2 },
    ],
  };
}

describe(`control message fixtures (protocol ${PROTOCOL_VERSION})`, () => {
  const messages = controlMessages();
  const saved = fixtures(`control-messages.v${PROTOCOL_VERSION}.json`, () => ({
    toJobManager: messages.toJobManager.map((m) => JSON.stringify(m)),
    toTaskManager: messages.toTaskManager.map((m) => JSON.stringify(m)),
  }));

  it('covers every message kind of both directions', () => {
    const kinds = (xs: string[]) => xs.map((x) => (JSON.parse(x) as { type: string }).type).sort();
    expect(kinds(saved.toJobManager)).toEqual(['checkpoint-ack', 'checkpoint-declined', 'final-ready', 'heartbeat', 'metrics', 'register', 'task-state']);
    expect(kinds(saved.toTaskManager)).toEqual(['cancel', 'checkpoint-complete', 'deploy', 'end-input', 'registered', 'trigger-checkpoint']);
  });

  it('each fixture frame passes its direction\'s schema and is what the messages serialize to', () => {
    saved.toJobManager.forEach((text, i) => {
      expect(parseTaskManagerMessage(JSON.parse(text))).toEqual(messages.toJobManager[i]);
      expect(JSON.stringify(messages.toJobManager[i])).toBe(text);
    });
    saved.toTaskManager.forEach((text, i) => {
      expect(parseJobManagerMessage(JSON.parse(text))).toEqual(messages.toTaskManager[i]);
      expect(JSON.stringify(messages.toTaskManager[i])).toBe(text);
    });
  });
});
