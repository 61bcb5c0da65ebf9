import type { PeerConnection } from './peer-connection';

interface Parked { frames: Buffer[]; bytes: number; since: number; conn: PeerConnection }

export interface ParkingLimits {
  /** Frames that may wait per channel (a compliant producer sends at most its credit window first). */
  maxFramesPerChannel: number;
  /** Bytes that may wait over all channels. */
  maxBytes: number;
}

/**
 * Frames of channels whose consumer is not bound yet: the producer's task manager deployed first.
 * They wait, per channel and in order, until the consumer binds (bounded: a peer that sends more than
 * a credit window before that breaks flow control), or are dropped after a time to live, or when the
 * connection that brought them is lost, or when their attempt is released.
 */
export class ParkedFrames {
  private readonly byChannel = new Map<string, Parked>();
  private bytes = 0;
  /** Frames dropped (lost connections, released channels, waiting too long). */
  dropped = 0;

  constructor(private readonly limits: ParkingLimits) {}

  /** Parks `frame`; returns why it cannot (the peer breaks flow control), or undefined. */
  park(conn: PeerConnection, channelId: string, frame: Buffer): string | undefined {
    let p = this.byChannel.get(channelId);
    if (!p) { p = { frames: [], bytes: 0, since: Date.now(), conn }; this.byChannel.set(channelId, p); }
    if (p.frames.length >= this.limits.maxFramesPerChannel || this.bytes + frame.length > this.limits.maxBytes) {
      return `too many frames for channel ${channelId} before its consumer was deployed (${p.frames.length} frames, ${this.bytes} bytes waiting): the peer ignores flow control`;
    }
    p.conn = conn;
    p.frames.push(frame);
    p.bytes += frame.length;
    this.bytes += frame.length;
    return undefined;
  }

  /** The frames of `channelId` (and the connection of the last), removed. */
  take(channelId: string): { frames: Buffer[]; conn: PeerConnection } | undefined {
    const p = this.byChannel.get(channelId);
    if (!p) return undefined;
    this.byChannel.delete(channelId);
    this.bytes -= p.bytes;
    return { frames: p.frames, conn: p.conn };
  }

  /** Drops what `conn` brought; returns the channels that lost frames. */
  dropConnection(conn: PeerConnection): string[] {
    const out: string[] = [];
    for (const [id, p] of this.byChannel) if (p.conn === conn) { this.remove(id, p); out.push(id); }
    return out;
  }

  /** Drops the frames of every channel `released` says yes to. */
  release(released: (channelId: string) => boolean): void {
    for (const [id, p] of this.byChannel) if (released(id)) this.remove(id, p);
  }

  /** Drops what waited longer than `ttlMs`; returns the channels and their frame counts. */
  expire(now: number, ttlMs: number): Array<{ channelId: string; frames: number }> {
    const out: Array<{ channelId: string; frames: number }> = [];
    for (const [id, p] of this.byChannel) if (now - p.since >= ttlMs) { out.push({ channelId: id, frames: p.frames.length }); this.remove(id, p); }
    return out;
  }

  clear(): void { this.byChannel.clear(); this.bytes = 0; }

  get frameCount(): number {
    let n = 0;
    for (const p of this.byChannel.values()) n += p.frames.length;
    return n;
  }

  private remove(id: string, p: Parked): void {
    this.byChannel.delete(id);
    this.bytes -= p.bytes;
    this.dropped += p.frames.length;
  }
}
