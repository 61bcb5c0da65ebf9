import type { MessagePort } from 'node:worker_threads';
import type { StreamElement } from '../elements';
import type { InputChannel, OutputChannel } from './channel';

/**
 * A channel between two worker threads of one process, over a MessagePort. Elements are structured-
 * cloned by postMessage; credits flow back on the same port.
 *
 *   producer ── {e: element} ──▶ consumer
 *   producer ◀── {c: n} ──────── consumer   (n elements taken: n credits back)
 */
type PortMessage = { e: StreamElement } | { c: number };

export class PortOutputChannel implements OutputChannel {
  private credits: number;
  private waiters: Array<() => void> = [];

  constructor(readonly id: string, private readonly port: MessagePort, capacity = 8) {
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
    this.port.postMessage({ e: element } satisfies PortMessage);
  }

  get writable(): boolean { return this.credits > 0; }

  whenWritable(): Promise<void> {
    if (this.credits > 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void { this.port.close(); }
}

/** Binds the consumer end: elements from the port go into `input`; consumption returns credit. */
export function bindPortInput(port: MessagePort, input: InputChannel): () => void {
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
  port.on('message', (m: PortMessage) => { if ('e' in m) input.push(m.e); });
  return () => port.close();
}
