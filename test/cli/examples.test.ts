/**
 * The examples, run as a user runs them: `rlink run examples/<x>.ts …` through the real CLI.
 * Each output is checked for shape and, where the data is deterministic, against a result computed
 * here with a plain loop over the same data (the generate functions are mirrored from the examples).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, readJsonl, rlink, tempDir as newTempDir } from '../helpers/cli';

const dirs: string[] = [];
function tempDir(): string { const d = newTempDir('rlink-examples-'); dirs.push(d); return d; }
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

const EXIT_OK = 0;

function expectFinished(r: { exitCode: number; stdout: string; stderr: string }, app: string): void {
  if (r.exitCode !== EXIT_OK) throw new Error(`rlink run ${app} exited ${r.exitCode}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  expect(r.stdout).toMatch(new RegExp(`FINISHED ${app} in [\\d.]+s`));
}

// ---------------------------------------------------------------------------------------------
// examples/rlink-simple.ts: sliding 60 s / 20 s windows per name with sum, max, min, count.

const NAMES = ['A-0', 'B-1', 'C-2', 'D-3', 'E-4', 'F-5', 'G-6', 'H-7', 'I-8', 'J-9'];
const SIMPLE_START = Date.UTC(2026, 0, 1);
/** Mirror of rlink-simple's generate(i). */
function simpleRecord(i: number): { timestamp: number; name: string; value: number } {
  return { timestamp: SIMPLE_START + Math.floor(i / 10) - ((i * 7919) % 500), name: NAMES[i % NAMES.length]!, value: (i * 31) % 1000 };
}

/** Expected output of rlink-simple: every record counts in each of the 3 sliding windows holding it (none is late: 0.5 s of disorder < 1 s bound). */
function expectedSimple(count: number): unknown[] {
  const SIZE = 60_000, SLIDE = 20_000;
  const acc = new Map<string, { name: string; windowStart: number; windowEnd: number; sum: number; max: number; min: number; count: number }>();
  for (let i = 0; i < count; i++) {
    const r = simpleRecord(i);
    const last = r.timestamp - (((r.timestamp % SLIDE) + SLIDE) % SLIDE);
    for (let start = last; start > r.timestamp - SIZE; start -= SLIDE) {
      const k = `${r.name}@${start}`;
      let a = acc.get(k);
      if (!a) acc.set(k, a = { name: r.name, windowStart: start, windowEnd: start + SIZE, sum: 0, max: -Infinity, min: Infinity, count: 0 });
      a.sum += r.value; a.count += 1;
      if (r.value > a.max) a.max = r.value;
      if (r.value < a.min) a.min = r.value;
    }
  }
  return [...acc.values()];
}

// ---------------------------------------------------------------------------------------------
// examples/word-count.ts: rolling count per word.

/** Mirror of word-count's tokenizer. */
function tokenize(line: string): string[] {
  return line.toLowerCase().match(/[\p{L}\p{N}']+/gu)?.map((w) => w.replace(/^'+|'+$/g, '')).filter((w) => w !== '') ?? [];
}

/**
 * Checks a rolling word count's changelog: for a word seen n times the records are exactly
 * count 1, 2, …, n, in that order; returns the final count per word.
 */
function checkChangelog(records: Array<{ word: string; count: number }>, lines: string[]): Map<string, number> {
  const expected = new Map<string, number>();
  for (const l of lines) for (const w of tokenize(l)) expected.set(w, (expected.get(w) ?? 0) + 1);
  for (const r of records) expect(Object.keys(r).sort()).toEqual(['count', 'word']);
  const seen = new Map<string, number>();
  for (const r of records) {
    const prev = seen.get(r.word) ?? 0;
    expect(r.count, `update of '${r.word}' after ${prev}`).toBe(prev + 1);
    seen.set(r.word, r.count);
  }
  expect(new Map([...seen].sort())).toEqual(new Map([...expected].sort()));
  expect(records.length).toBe([...expected.values()].reduce((a, b) => a + b, 0));
  return seen;
}

const HAMLET = [
  'To be, or not to be,--that is the question:--',
  'Whether \'tis nobler in the mind to suffer',
  'The slings and arrows of outrageous fortune',
  'Or to take arms against a sea of troubles,',
  'And by opposing end them?--To die,--to sleep,--',
  'No more; and by a sleep to say we end',
  'The heartache, and the thousand natural shocks',
  'That flesh is heir to,--\'tis a consummation',
  'Devoutly to be wish\'d. To die,--to sleep;--',
  'To sleep! perchance to dream:--ay, there\'s the rub;',
];

// ---------------------------------------------------------------------------------------------
// examples/session-window.ts: sessions with a 30 s gap, late clicks to a side output.

const USERS = ['alice', 'bob', 'carol', 'dave', 'erin'];
const PAGES = ['/', '/search', '/product', '/cart', '/checkout'];
const SESSION_START = Date.UTC(2026, 0, 1);
interface Click { user: string; ts: number; page: string }
/** Mirror of session-window's click(i). */
function click(i: number): Click {
  const busy = Math.floor(i / 40) % USERS.length;
  const user = USERS[i % 7 === 3 ? (busy + 2) % USERS.length : busy]!;
  const jitter = (i * 7919) % 4000;
  const late = i % 100 === 99 ? 10 * 60_000 : 0;
  return { user, ts: SESSION_START + i * 1000 - jitter - late, page: PAGES[Math.floor(i / 3) % PAGES.length]! };
}

/**
 * Flink's session windows, simulated record by record: before record i the watermark is
 * max(ts of records < i) − bound − 1; sessions with end − 1 ≤ watermark have fired; a record's
 * window [ts, ts + gap) merges with every session it overlaps or touches, and the record is late
 * when the merged window has already fired.
 */
function expectedSessions(count: number, gap = 30_000, bound = 5_000): { sessions: unknown[]; late: Click[] } {
  const open = new Map<string, Array<{ start: number; end: number; clicks: number; first: number; last: number }>>();
  const done: unknown[] = [];
  const late: Click[] = [];
  const emit = (user: string, s: { start: number; end: number; clicks: number; first: number; last: number }) => done.push({
    user, windowStart: s.start, windowEnd: s.end, clicks: s.clicks, firstClick: s.first, lastClick: s.last, durationMs: s.last - s.first,
  });
  let maxTs = -Infinity;
  for (let i = 0; i < count; i++) {
    const c = click(i);
    const wm = maxTs - bound - 1;
    for (const [user, list] of open) {
      const keep = list.filter((s) => { if (s.end - 1 <= wm) { emit(user, s); return false; } return true; });
      open.set(user, keep);
    }
    const list = open.get(c.user) ?? [];
    let start = c.ts, end = c.ts + gap, clicks = 1, first = c.ts, last = c.ts;
    const keep = [];
    for (const s of list) {
      if (s.start <= end && s.end >= start) {
        start = Math.min(start, s.start); end = Math.max(end, s.end);
        clicks += s.clicks; first = Math.min(first, s.first); last = Math.max(last, s.last);
      } else keep.push(s);
    }
    if (end - 1 <= wm) late.push(c);
    else { keep.push({ start, end, clicks, first, last }); open.set(c.user, keep); }
    if (c.ts > maxTs) maxTs = c.ts;
  }
  for (const [user, list] of open) for (const s of list) emit(user, s);
  return { sessions: done, late };
}

describe('examples', () => {
  it('rlink-simple: sliding-window sums, max, min and counts per name are exact', async () => {
    const dir = tempDir();
    const out = join(dir, 'simple');
    const COUNT = 30_000;
    const r = await rlink(['run', 'examples/rlink-simple.ts', `count=${COUNT}`, `output=${out}`]);
    expectFinished(r, 'rlink-simple');
    expect(r.stdout).toContain(`${COUNT} records in`);
    const got = readJsonl(out);
    for (const rec of got) {
      expect(Object.keys(rec).sort()).toEqual(['count', 'max', 'min', 'name', 'sum', 'windowEnd', 'windowStart']);
      expect(NAMES).toContain(rec.name);
      expect(rec.windowEnd - rec.windowStart).toBe(60_000);
      expect(((rec.windowStart % 20_000) + 20_000) % 20_000).toBe(0);
      expect(rec.min).toBeLessThanOrEqual(rec.max);
      expect(rec.count).toBeGreaterThan(0);
    }
    const want = expectedSimple(COUNT);
    expect(got.length).toBe(want.length);
    expect(canonical(got)).toEqual(canonical(want));
  });

  it('word-count: built-in lines, printed, one changelog record per word occurrence', async () => {
    const r = await rlink(['run', 'examples/word-count.ts']);
    expectFinished(r, 'word-count');
    const records = r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { word: string; count: number });
    const finals = checkChangelog(records, HAMLET);
    expect(finals.get('to')).toBe(13);
    expect(finals.get('the')).toBe(6);
    expect(finals.get('be')).toBe(3);
    expect(finals.get('tis')).toBe(2);
    expect(r.stdout).toContain(`${HAMLET.length} records in, ${records.length} out`);
  });

  it('word-count: a text file (blank lines, CRLF, punctuation, non-ASCII) to an output file', async () => {
    const dir = tempDir();
    const input = join(dir, 'text.txt');
    const out = join(dir, 'words.jsonl');
    const lines = ['Grüße aus Köln, grüße!', '', 'The cat; the HAT -- the bat.', '   ', 'Čaj, café & CAFÉ 42 42'];
    writeFileSync(input, lines.join('\r\n') + '\r\n');
    const r = await rlink(['run', 'examples/word-count.ts', `input=${input}`, `output=${out}`]);
    expectFinished(r, 'word-count');
    const records = readJsonl(out) as Array<{ word: string; count: number }>;
    const finals = checkChangelog(records, lines);
    expect(Object.fromEntries(finals)).toEqual({ grüße: 2, aus: 1, köln: 1, the: 3, cat: 1, hat: 1, bat: 1, čaj: 1, café: 2, '42': 2 });
    // The output file holds exactly the JSON lines (nothing else).
    expect(readFileSync(out, 'utf8').trimEnd().split('\n')).toHaveLength(records.length);
  });

  it('word-count: an empty input file finishes with no output records', async () => {
    const dir = tempDir();
    const input = join(dir, 'empty.txt');
    const out = join(dir, 'words.jsonl');
    writeFileSync(input, '');
    const r = await rlink(['run', 'examples/word-count.ts', `input=${input}`, `output=${out}`]);
    expectFinished(r, 'word-count');
    expect(readJsonl(out)).toEqual([]);
  });

  it('session-window: sessions (count, first/last click) and late clicks are exact', async () => {
    const dir = tempDir();
    const out = join(dir, 'sessions.jsonl');
    const lateOut = join(dir, 'late.jsonl');
    const COUNT = 3000;
    const r = await rlink(['run', 'examples/session-window.ts', `count=${COUNT}`, `output=${out}`, `late.output=${lateOut}`]);
    expectFinished(r, 'session-window');
    const got = readJsonl(out);
    const late = readJsonl(lateOut);
    for (const s of got) {
      expect(Object.keys(s).sort()).toEqual(['clicks', 'durationMs', 'firstClick', 'lastClick', 'user', 'windowEnd', 'windowStart']);
      expect(USERS).toContain(s.user);
      // A session window is [first click, last click + gap).
      expect(s.windowStart).toBe(s.firstClick);
      expect(s.windowEnd).toBe(s.lastClick + 30_000);
      expect(s.durationMs).toBe(s.lastClick - s.firstClick);
      expect(s.clicks).toBeGreaterThan(0);
    }
    const want = expectedSessions(COUNT);
    expect(want.late.length).toBe(30); // every 100th click is 10 minutes late
    expect(canonical(got)).toEqual(canonical(want.sessions));
    expect(canonical(late)).toEqual(canonical(want.late));
    // Every click is in exactly one session or in the late output.
    expect(got.reduce((n, s) => n + s.clicks, 0) + late.length).toBe(COUNT);
    // Sessions of one user never overlap or touch (they would have merged).
    const byUser = new Map<string, Array<{ windowStart: number; windowEnd: number }>>();
    for (const s of got) byUser.set(s.user, [...(byUser.get(s.user) ?? []), s]);
    for (const list of byUser.values()) {
      list.sort((a, b) => a.windowStart - b.windowStart);
      for (let i = 1; i < list.length; i++) expect(list[i]!.windowStart).toBeGreaterThan(list[i - 1]!.windowEnd);
    }
  });

  it('session-window: default run prints sessions and `late>` lines', async () => {
    const r = await rlink(['run', 'examples/session-window.ts']);
    expectFinished(r, 'session-window');
    const lines = r.stdout.split('\n');
    const late = lines.filter((l) => l.startsWith('late> ')).map((l) => JSON.parse(l.slice('late> '.length)) as Click);
    const sessions = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const want = expectedSessions(1000);
    expect(canonical(late)).toEqual(canonical(want.late));
    expect(canonical(sessions)).toEqual(canonical(want.sessions));
  });
});
