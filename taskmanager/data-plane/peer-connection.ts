import type { WebSocket } from 'ws';

/**
 * One data connection between two slot workers, as the data plane tracks it: the socket (none yet
 * while the peer's address is being resolved), frames queued until it opens, liveness, counters, and
 * the channels it carries (so that its loss can be reported to exactly the attempts that used it).
 */
export interface PeerConnection {
  ws: WebSocket | undefined;
  /** 'out': opened by this side (it carries our producers' data); 'in': opened by the peer. */
  readonly direction: 'out' | 'in';
  /** Stats and loss reports go under this key: the peer's address (or its slot, or tm:<id>). */
  readonly key: string;
  peerId?: string;
  open: boolean;
  dead: boolean;
  /** Frames sent before the connection opened (with what to call once each is written). */
  queue: Array<{ frame: Buffer; written?: (() => void) | undefined }>;
  /** A pong (or any frame) arrived since the last ping. */
  alive: boolean;
  closedByUs: boolean;
  /** The loss was reported already. */
  reported: boolean;
  error?: Error;
  /** Channels whose producers here send on it / whose data arrived on it. */
  readonly channelsOut: Set<string>;
  readonly channelsIn: Set<string>;
}

export function newConnection(ws: WebSocket | undefined, direction: 'out' | 'in', key: string): PeerConnection {
  return { ws, direction, key, open: false, dead: false, queue: [], alive: true, closedByUs: false, reported: false, channelsOut: new Set(), channelsIn: new Set() };
}

/** Traffic with one peer (for the REST API and metrics). */
export interface PeerStats {
  /** The peer's address (or `tm:<id>` for an incoming connection of a peer that did not say). */
  address: string;
  taskManagerId?: string;
  /** Connections open with this peer now. */
  connections: number;
  bytesIn: number;
  bytesOut: number;
  framesIn: number;
  framesOut: number;
}

export type PeerCounters = Omit<PeerStats, 'connections'>;
