import { RlinkError } from '../core/errors';

/** Job states, as Flink's JobStatus. */
export type JobStatus = 'CREATED' | 'RUNNING' | 'FAILING' | 'FAILED' | 'CANCELLING' | 'CANCELED' | 'FINISHED' | 'RESTARTING';

/**
 *            ┌──────────── RESTARTING ◀──┐
 *            ▼                           │
 *  CREATED ─▶ RUNNING ─▶ FAILING ────────┴─▶ FAILED
 *     │          │ └──▶ FINISHED
 *     │          └────▶ CANCELLING ─▶ CANCELED (FINISHED after a stop with a savepoint)
 *     └──────────────────────────────▶ CANCELED / FAILED
 */
const TRANSITIONS: Record<JobStatus, readonly JobStatus[]> = {
  CREATED: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILED'],
  RUNNING: ['FINISHED', 'FAILING', 'CANCELLING', 'RESTARTING'],
  FAILING: ['RESTARTING', 'FAILED'],
  RESTARTING: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILED'],
  CANCELLING: ['CANCELED', 'FINISHED'], // FINISHED: a stop with a savepoint (Flink reports it so)
  FINISHED: [],
  FAILED: [],
  CANCELED: [],
};

export const TERMINAL: ReadonlySet<JobStatus> = new Set(['FINISHED', 'FAILED', 'CANCELED']);

export class JobStatusMachine {
  private current: JobStatus = 'CREATED';
  /** Every state entered, with the time: tests assert the sequence, REST shows it. */
  readonly history: Array<{ status: JobStatus; at: number }> = [{ status: 'CREATED', at: Date.now() }];

  constructor(private readonly onChange: (s: JobStatus) => void = () => {}) {}

  get status(): JobStatus { return this.current; }
  get terminal(): boolean { return TERMINAL.has(this.current); }

  transition(to: JobStatus): void {
    if (!TRANSITIONS[this.current].includes(to)) {
      throw new RlinkError('RLINK_INTERNAL', `illegal job state transition ${this.current} → ${to}`);
    }
    this.current = to;
    this.history.push({ status: to, at: Date.now() });
    this.onChange(to);
  }

  can(to: JobStatus): boolean { return TRANSITIONS[this.current].includes(to); }

}
