import { randomBytes } from 'node:crypto';
import type { CheckpointStorage } from '../../core/fs/checkpoint-storage';
import { RlinkError, errorMessage } from '../../core/errors';
import type { Logger } from '../../core/logging';
import { s, type Infer } from '../../core/protocol/schema';

/**
 * Leader election among job managers through their shared metadata storage (a directory every job
 * manager reaches: a shared mount, or HDFS through WebHDFS), with the epoch as fencing token. No
 * ZooKeeper: the storage's one atomic primitive, "create if absent", decides each epoch.
 *
 *   <metadata>/leader/epoch-00000007.json   { epoch: 7, owner, url, beat: 0 }   created once, never rewritten
 *   <metadata>/leader/beat-00000007.json    { epoch: 7, beat: 1234 }             rewritten by the leader
 *
 *   every renewMs:
 *     leader    rewrite its beat file with beat + 1; an epoch file of a higher epoch ─▶ leadership lost
 *     standby   read the newest epoch file and its beat; the beat unchanged for leaseMs (timed by this
 *               process's own clock, so hosts need not agree on the time) ─▶ create epoch-(n+1)
 *               exclusively: the one creator is the new leader
 *
 * Epoch files are immutable because a rewrite is not gap-free everywhere: HDFS's RENAME does not
 * replace, so a rewrite there is delete + rename, and a standby listing in between would take the
 * previous epoch for the newest and could create the current one again (two leaders of one epoch).
 * A beat file missing for a moment only keeps the standby's last observation.
 *
 * A lease whose `url` is this job manager's own address is taken over at once: the address is
 * bound by this process, so its holder is gone (a job manager restarted after a crash does not wait
 * for its own old lease to expire).
 *
 * The epoch travels to the task managers in `registered`; a task manager that has seen epoch n
 * refuses a job manager of a lower one, and a leader stops writing job records as soon as it sees a
 * higher epoch. Between a leader's last renewal and the next standby's takeover at most one leader
 * acts; a leader that is paused (not crashed) for longer than leaseMs learns it was deposed at its
 * next renewal, before it writes again.
 */
const LeaseSchema = s.object({ epoch: s.int({ min: 1 }), owner: s.string({ max: 200 }), url: s.string({ max: 2048 }), beat: s.int({ min: 0 }) });
export type Lease = Infer<typeof LeaseSchema>;
const BeatSchema = s.object({ epoch: s.int({ min: 1 }), beat: s.int({ min: 0 }) });

/** The highest epoch in the storage, its lease and its beat (undefined when they cannot be read now). */
interface Newest { epoch: number; lease: Lease | undefined; beat?: number }

export type LeadershipEvent = { kind: 'elected'; epoch: number } | { kind: 'revoked'; epoch: number; by: Lease | undefined };

export interface LeaderElectionOptions {
  storage: CheckpointStorage;
  /** The metadata directory (local path or hdfs:// URL). */
  dir: string;
  /** This job manager's address as task managers and clients reach it. */
  url: string;
  logger: Logger;
  /** A lease not renewed for this long is expired (default 6 s). */
  leaseMs?: number;
  /** How often the leader renews and standbys look (default leaseMs / 3). */
  renewMs?: number;
  onChange(e: LeadershipEvent): void;
}

const EPOCH_FILE = /^epoch-(\d{8,})\.json$/;

export class LeaderElection {
  readonly owner = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private epoch = 0;
  private beat = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private observed: { epoch: number; beat: number; since: number } | undefined;
  private known: Lease | undefined;
  private readonly log: Logger;
  readonly leaseMs: number;
  private lastConfirmed = 0;

  constructor(private readonly o: LeaderElectionOptions) {
    this.log = o.logger.child({ component: 'jobmanager.leader-election' });
    this.leaseMs = o.leaseMs ?? 6_000;
  }

  get leaderDir(): string { return this.o.storage.join(this.o.dir, 'leader'); }
  get isLeader(): boolean { return this.epoch > 0; }
  /** The epoch this job manager leads (0 while a standby). */
  get leaderEpoch(): number { return this.epoch; }
  /** The leader as last seen (its URL, for a standby's redirect). */
  get leader(): Lease | undefined { return this.known; }

  start(): void { void this.tick(); }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /**
   * Throws unless this job manager leads and confirmed so within the lease: every write of job
   * metadata calls it first (the fencing of the storage side).
   */
  fence(): number {
    if (!this.isLeader) throw new RlinkError('RLINK_NOT_LEADER', 'this job manager is not the leader');
    if (performance.now() - this.lastConfirmed > this.leaseMs) throw new RlinkError('RLINK_NOT_LEADER', `this job manager could not renew its leadership (epoch ${this.epoch}) within ${this.leaseMs} ms`);
    return this.epoch;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.o.renewMs ?? Math.max(50, Math.floor(this.leaseMs / 3)));
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      const newest = await this.newest();
      if (this.stopped) return;
      if (this.isLeader) await this.renew(newest);
      else await this.observe(newest);
    } catch (e) {
      this.log.warn({ event: 'leader.storage-error', err: errorMessage(e) }, `leader election: metadata storage: ${errorMessage(e)}`);
    }
    this.schedule();
  }

  private async renew(newest: Newest): Promise<void> {
    if (newest.epoch > this.epoch) { this.revoke(newest.lease); return; }
    this.beat++;
    await this.o.storage.writeFile(this.beatFile(this.epoch), JSON.stringify({ epoch: this.epoch, beat: this.beat }));
    this.lastConfirmed = performance.now();
    this.known = this.lease(this.epoch);
  }

  private async observe(newest: Newest): Promise<void> {
    const now = performance.now();
    if (newest.lease) this.known = { ...newest.lease, beat: newest.beat ?? newest.lease.beat };
    // A beat being rewritten (unreadable for a moment) keeps the last observation: the lease expires
    // only if it stays unreadable, or unrenewed, for the whole lease.
    const last = this.observed?.epoch === newest.epoch ? this.observed.beat : undefined;
    const beat = newest.beat ?? last ?? newest.lease?.beat ?? -1;
    if (!this.observed || this.observed.epoch !== newest.epoch || this.observed.beat !== beat) {
      this.observed = { epoch: newest.epoch, beat, since: now };
    }
    const mine = newest.lease !== undefined && newest.lease.url === this.o.url;
    const expired = newest.epoch === 0 || mine || now - this.observed.since > this.leaseMs;
    if (!expired) return;
    const epoch = newest.epoch + 1;
    const won = await this.o.storage.createExclusive(this.file(epoch), JSON.stringify(this.lease(epoch)));
    if (!won || this.stopped) return;
    this.epoch = epoch;
    this.lastConfirmed = performance.now();
    this.known = this.lease(epoch);
    this.log.info({ event: 'leader.elected', epoch, previous: newest.lease?.url }, `elected leader (epoch ${epoch})${newest.lease ? `, after ${newest.lease.url} (epoch ${newest.lease.epoch})` : ''}`);
    this.o.onChange({ kind: 'elected', epoch });
  }

  private revoke(by: Lease | undefined): void {
    const epoch = this.epoch;
    this.epoch = 0;
    this.observed = undefined;
    this.log.warn({ event: 'leader.revoked', epoch, by: by?.url }, `leadership (epoch ${epoch}) lost${by ? ` to ${by.url} (epoch ${by.epoch})` : ''}`);
    this.o.onChange({ kind: 'revoked', epoch, by });
  }

  /**
   * The highest epoch and its lease. Only the highest counts: an older lease is history, even when the
   * newest cannot be read right now (it is being rewritten, or it is damaged: then it expires).
   */
  private async newest(): Promise<Newest> {
    const names = (await this.o.storage.list(this.leaderDir)).filter((n) => EPOCH_FILE.test(n)).sort();
    const last = names.at(-1);
    if (last === undefined) return { epoch: 0, lease: undefined };
    const epoch = Number(EPOCH_FILE.exec(last)![1]);
    const [lease, beat] = await Promise.all([
      this.read(this.file(epoch), epoch, LeaseSchema),
      this.read(this.beatFile(epoch), epoch, BeatSchema),
    ]);
    return { epoch, lease, beat: beat?.beat };
  }

  /** One of the epoch's files, or undefined when it is absent, being written or damaged. */
  private async read<T extends { epoch: number }>(path: string, epoch: number, schema: { check(v: unknown, where: string): T }): Promise<T | undefined> {
    const bytes = await this.o.storage.readFile(path);
    if (!bytes) return undefined;
    try {
      const value = schema.check(JSON.parse(bytes.toString('utf8')), path);
      if (value.epoch !== epoch) throw new Error(`it holds epoch ${value.epoch}`);
      return value;
    } catch (e) {
      // A beat file is rewritten several times a second: a torn read of it is expected now and then.
      const level = schema === BeatSchema ? 'debug' : 'warn';
      this.log[level]({ event: 'leader.bad-lease', file: path, err: errorMessage(e) }, `${path} is unreadable: ${errorMessage(e)}`);
      return undefined;
    }
  }

  private file(epoch: number): string { return this.o.storage.join(this.leaderDir, `epoch-${String(epoch).padStart(8, '0')}.json`); }
  private beatFile(epoch: number): string { return this.o.storage.join(this.leaderDir, `beat-${String(epoch).padStart(8, '0')}.json`); }
  private lease(epoch: number): Lease { return { epoch, owner: this.owner, url: this.o.url, beat: this.beat }; }
}
