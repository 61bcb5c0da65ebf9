/**
 * The job-status state machine (Flink's JobStatus): the legal transitions, everything else refused
 * with an error naming both states, terminal states final, and the history of states entered.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { JobStatusMachine, TERMINAL, type JobStatus } from '../../jobmanager/job-status';
import { RlinkError } from '../../core/errors';

const ALL: JobStatus[] = ['CREATED', 'RUNNING', 'FAILING', 'FAILED', 'CANCELLING', 'CANCELED', 'FINISHED', 'RESTARTING'];

/** The legal transitions, as drawn in job-status.ts. */
const LEGAL: Record<JobStatus, JobStatus[]> = {
  CREATED: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILED'],
  RUNNING: ['FINISHED', 'FAILING', 'CANCELLING', 'RESTARTING'],
  FAILING: ['RESTARTING', 'FAILED'],
  RESTARTING: ['RUNNING', 'CANCELLING', 'CANCELED', 'FAILED'],
  CANCELLING: ['CANCELED', 'FINISHED'],
  FINISHED: [],
  FAILED: [],
  CANCELED: [],
};

/** A machine driven into `state` along legal transitions. */
const PATH: Record<JobStatus, JobStatus[]> = {
  CREATED: [],
  RUNNING: ['RUNNING'],
  FAILING: ['RUNNING', 'FAILING'],
  FAILED: ['RUNNING', 'FAILING', 'FAILED'],
  CANCELLING: ['RUNNING', 'CANCELLING'],
  CANCELED: ['RUNNING', 'CANCELLING', 'CANCELED'],
  FINISHED: ['RUNNING', 'FINISHED'],
  RESTARTING: ['RUNNING', 'FAILING', 'RESTARTING'],
};

function machineIn(state: JobStatus, onChange?: (s: JobStatus) => void): JobStatusMachine {
  const m = new JobStatusMachine(onChange);
  for (const s of PATH[state]) m.transition(s);
  expect(m.status).toBe(state);
  return m;
}

describe('job status state machine', () => {
  it('starts CREATED, not terminal, with CREATED in its history', () => {
    const m = new JobStatusMachine();
    expect(m.status).toBe('CREATED');
    expect(m.terminal).toBe(false);
    expect(m.history.map((h) => h.status)).toEqual(['CREATED']);
  });

  it('the happy path CREATED → RUNNING → FINISHED', () => {
    const seen: JobStatus[] = [];
    const m = new JobStatusMachine((s) => seen.push(s));
    m.transition('RUNNING');
    m.transition('FINISHED');
    expect(m.status).toBe('FINISHED');
    expect(m.terminal).toBe(true);
    expect(seen).toEqual(['RUNNING', 'FINISHED']);
    expect(m.history.map((h) => h.status)).toEqual(['CREATED', 'RUNNING', 'FINISHED']);
  });

  it('failure with restarts: RUNNING → FAILING → RESTARTING → RUNNING → … → FAILING → FAILED', () => {
    const m = new JobStatusMachine();
    for (const s of ['RUNNING', 'FAILING', 'RESTARTING', 'RUNNING', 'RESTARTING', 'RUNNING', 'FAILING', 'FAILED'] as JobStatus[]) m.transition(s);
    expect(m.status).toBe('FAILED');
    expect(m.history).toHaveLength(9);
    for (let i = 1; i < m.history.length; i++) expect(m.history[i]!.at).toBeGreaterThanOrEqual(m.history[i - 1]!.at);
  });

  it('cancel: RUNNING → CANCELLING → CANCELED, and cancelling a restarting job', () => {
    const a = machineIn('RUNNING');
    a.transition('CANCELLING');
    a.transition('CANCELED');
    expect(a.terminal).toBe(true);
    const b = machineIn('RESTARTING');
    b.transition('CANCELLING');
    b.transition('CANCELED');
    expect(b.status).toBe('CANCELED');
  });

  it('terminal states are exactly FINISHED, FAILED, CANCELED', () => {
    expect([...TERMINAL].sort()).toEqual(['CANCELED', 'FAILED', 'FINISHED']);
    for (const s of ALL) expect(machineIn(s).terminal).toBe(TERMINAL.has(s));
  });

  it('every (from, to) pair: legal ones move, illegal ones throw naming both states and change nothing', () => {
    for (const from of ALL) {
      for (const to of ALL) {
        const changes: JobStatus[] = [];
        const m = machineIn(from, (s) => changes.push(s));
        const before = changes.length;
        const historyBefore = m.history.length;
        expect(m.can(to), `${from} → ${to}`).toBe(LEGAL[from].includes(to));
        if (LEGAL[from].includes(to)) {
          m.transition(to);
          expect(m.status).toBe(to);
          expect(changes.at(-1)).toBe(to);
        } else {
          let err: unknown;
          try { m.transition(to); } catch (e) { err = e; }
          expect(err, `${from} → ${to} must be refused`).toBeInstanceOf(RlinkError);
          expect((err as RlinkError).message).toContain(`${from} → ${to}`);
          expect(m.status).toBe(from);
          expect(m.history).toHaveLength(historyBefore);
          expect(changes).toHaveLength(before);
        }
      }
    }
  });

  it('no state transitions to itself, and nothing leaves a terminal state', () => {
    for (const s of ALL) expect(machineIn(s).can(s)).toBe(false);
    for (const s of TERMINAL) for (const to of ALL) expect(machineIn(s).can(to)).toBe(false);
  });

  it('every state is reachable from CREATED and every non-terminal state can reach a terminal one', () => {
    const reach = (from: JobStatus): Set<JobStatus> => {
      const seen = new Set<JobStatus>([from]);
      const todo = [from];
      while (todo.length) for (const n of LEGAL[todo.pop()!]) if (!seen.has(n)) { seen.add(n); todo.push(n); }
      return seen;
    };
    expect([...reach('CREATED')].sort()).toEqual([...ALL].sort());
    for (const s of ALL) expect([...reach(s)].some((x) => TERMINAL.has(x))).toBe(true);
  });

  it('random walks: the machine accepts exactly the legal moves and its history is the accepted path', () => {
    fc.assert(fc.property(fc.array(fc.constantFrom(...ALL), { maxLength: 30 }), (moves) => {
      const m = new JobStatusMachine();
      const path: JobStatus[] = ['CREATED'];
      for (const to of moves) {
        const legal = LEGAL[m.status].includes(to);
        if (legal) { m.transition(to); path.push(to); } else expect(() => m.transition(to)).toThrow(RlinkError);
      }
      expect(m.history.map((h) => h.status)).toEqual(path);
      expect(m.status).toBe(path.at(-1));
    }), { numRuns: 500 });
  });
});
