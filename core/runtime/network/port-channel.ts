import type { MessagePort } from 'node:worker_threads';
import type { StreamElement } from '../elements';
import { codecOf, columnarCodec, decodeBatch, encodeBatch, encodedBytes, transferables, type Codec, type EncodedBatch } from './batch-codec';
import { RingReader, RingWriter, createRingBuffer } from './batch-ring';
import { EAGER_CREDITS, type InputChannel, type OutputChannel } from './channel';

/**
 * A channel between two worker threads of one process, over a MessagePort. Batches of same-shaped
 * flat records go through a shared ring (batch-ring.ts): encoded into it by the producer, decoded
 * from it by the consumer, announced on the port by a number. Everything else is structured-cloned
 * by postMessage. Credits flow back on the same port.
 *
 *   producer ── {ring: SharedArrayBuffer} ─▶ consumer   (once, before the first entry)
 *   producer ── {k: [fields, types]} ──────▶ consumer   (a new record shape: its number is the next)
 *   producer ── shape number ──────────────▶ consumer   (records: the next entry of the ring)
 *   producer ── {b: batch} ────────────────▶ consumer   (records the ring does not take, columnar or not)
 *   producer ── {e: element} ──────────────▶ consumer   (watermarks, statuses, barriers, end)
 *   producer ◀── {c: n} ─────────────────── consumer   (n elements taken: n credits back)
 *
 * The port keeps the order of all of them; the ring only holds the bytes.
 */
export type PortMessage = { e: StreamElement } | { b: EncodedBatch } | { c: number };
/** What a port carries between threads: the messages a network frame can carry too, and the ring's. */
type PortWireMessage = PortMessage | number | { ring: SharedArrayBuffer } | { k: [string[], string] };

/** Bytes of a channel's ring: a few dozen batches of small records (allocated with the first batch). */
export const RING_BYTES = 1 << 20;

export class PortOutputChannel implements OutputChannel {
  private credits: number;
  /** Counts the bytes of the batches sent (the task's bytesOut). */
  onBytes: (n: number) => void = () => {};
  private waiters: Array<() => void> = [];
  private ring: RingWriter | undefined;
  private readonly shapes = new Map<Codec, number>();

  /** `ringBytes`: the shared ring's size (0: none, every batch through postMessage). */
  constructor(readonly id: string, private readonly port: MessagePort, capacity = 32, private readonly ringBytes = RING_BYTES) {
    this.credits = capacity;
    port.on('message', (m: PortWireMessage) => {
      if (typeof m === 'object' && 'c' in m) {
        this.credits += m.c;
        if (this.waiters.length > 0) { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
      }
    });
  }

  send(element: StreamElement): void {
    this.credits--;
    if (element.kind === 'records') {
      if (this.ringBytes > 0 && this.sendThroughRing(element.values, element.timestamps)) return;
      const b = encodeBatch(element.values, element.timestamps);
      this.onBytes(encodedBytes(b));
      this.port.postMessage({ b } satisfies PortMessage, transferables(b));
    } else this.port.postMessage({ e: element } satisfies PortMessage);
  }

  private sendThroughRing(values: unknown[], timestamps: number[]): boolean {
    if (values.length === 0) return false;
    const c = columnarCodec(values);
    if (!c) return false;
    if (!this.ring) {
      const sab = createRingBuffer(this.ringBytes);
      this.ring = new RingWriter(sab);
      this.port.postMessage({ ring: sab } satisfies PortWireMessage);
    }
    const bytes = this.ring.write(values, timestamps, c.codec);
    if (bytes === false) return false;
    let shape = this.shapes.get(c.codec);
    if (shape === undefined) {
      shape = this.shapes.size;
      this.shapes.set(c.codec, shape);
      this.port.postMessage({ k: [c.fields, c.types] } satisfies PortWireMessage);
    }
    this.onBytes(bytes);
    this.port.postMessage(shape satisfies PortWireMessage);
    return true;
  }

  get writable(): boolean { return this.credits > 0; }

  whenWritable(): Promise<void> {
    if (this.credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void { this.port.close(); }
}

/** Binds the consumer end: elements from the port go into `input`; consumption returns credit. */
export function bindPortInput(port: MessagePort, input: InputChannel, onBytes: (n: number) => void = () => {}): () => void {
  let owed = 0;
  let scheduled = false;
  const flush = (): void => { if (owed > 0) { const c = owed; owed = 0; port.postMessage({ c } satisfies PortMessage); } };
  input.onConsumed = (n) => {
    owed += n;
    // Coalesced: one credit message per task turn, or per EAGER_CREDITS elements taken in a long turn.
    if (owed >= EAGER_CREDITS) { flush(); return; }
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(() => { scheduled = false; flush(); });
    }
  };
  let ring: RingReader | undefined;
  const shapes: Codec[] = [];
  port.on('message', (m: PortWireMessage) => {
    if (typeof m === 'number') {
      const r = ring!;
      const codec = shapes[m]!;
      // Decoded when taken (in order, so the ring's entries are read in order), then released.
      input.push(() => {
        const { values, timestamps, bytes } = r.next(codec);
        onBytes(bytes);
        return { kind: 'records', values, timestamps };
      });
    } else if ('b' in m) {
      const batch = m.b;
      onBytes(encodedBytes(batch));
      input.push(() => { const { values, timestamps } = decodeBatch(batch); return { kind: 'records', values, timestamps }; });
    }
    else if ('e' in m) input.push(m.e);
    else if ('k' in m) shapes.push(codecOf(m.k[0], m.k[1]));
    else if ('ring' in m) ring = new RingReader(m.ring);
  });
  return () => port.close();
}
