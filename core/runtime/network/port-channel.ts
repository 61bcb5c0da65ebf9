import type { MessagePort } from 'node:worker_threads';
import type { StreamElement } from '../elements';
import { decodeBatch, encodeBatch, encodedBytes, transferables, type EncodedBatch } from './batch-codec';
import type { InputChannel, OutputChannel } from './channel';

/**
 * A channel between two worker threads of one process, over a MessagePort. Elements are structured-
 * cloned by postMessage; credits flow back on the same port.
 *
 *   producer ── {b: batch} ────▶ consumer   (records, columnar: batch-codec.ts)
 *   producer ── {e: element} ──▶ consumer   (watermarks, statuses, barriers, end)
 *   producer ◀── {c: n} ──────── consumer   (n elements taken: n credits back)
 */
export type PortMessage = { e: StreamElement } | { b: EncodedBatch } | { c: number };

export class PortOutputChannel implements OutputChannel {
  private credits: number;
  /** Counts the bytes of the batches sent (the task's bytesOut). */
  onBytes: (n: number) => void = () => {};
  private waiters: Array<() => void> = [];

  constructor(readonly id: string, private readonly port: MessagePort, capacity = 32) {
    this.credits = capacity;
    port.on('message', (m: PortMessage) => {
      if ('c' in m) {
        this.credits += m.c;
        if (this.waiters.length > 0) { const w = this.waiters; this.waiters = []; for (const f of w) f(); }
      }
    });
  }

  send(element: StreamElement): void {
    this.credits--;
    if (element.kind === 'records') {
      const b = encodeBatch(element.values, element.timestamps);
      this.onBytes(encodedBytes(b));
      this.port.postMessage({ b } satisfies PortMessage, transferables(b));
    } else this.port.postMessage({ e: element } satisfies PortMessage);
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
  input.onConsumed = (n) => {
    owed += n;
    // Coalesce credit messages: one per turn of the event loop at most.
    if (!scheduled) {
      scheduled = true;
      queueMicrotask(() => { scheduled = false; const c = owed; owed = 0; port.postMessage({ c } satisfies PortMessage); });
    }
  };
  port.on('message', (m: PortMessage) => {
    if ('b' in m) { onBytes(encodedBytes(m.b)); const { values, timestamps } = decodeBatch(m.b); input.push({ kind: 'records', values, timestamps }); }
    else if ('e' in m) input.push(m.e);
  });
  return () => port.close();
}
