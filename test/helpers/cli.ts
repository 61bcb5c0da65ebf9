import { execa } from 'execa';
import { mkdtempSync, readFileSync, writeFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'rlink.js');

export interface CliResult { exitCode: number; stdout: string; stderr: string }

/** Runs the real `rlink` binary, as a user would; never throws on a non-zero exit. */
export async function rlink(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CliResult> {
  const r = await execa('node', [BIN, ...args], {
    cwd: opts.cwd ?? ROOT, env: { ...opts.env }, reject: false, timeout: opts.timeoutMs ?? 120_000, stdin: 'ignore',
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

export function tempDir(prefix = 'rlink-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function writeJsonl(path: string, records: unknown[]): void {
  writeFileSync(path, records.map((r) => JSON.stringify(r)).join('\n') + (records.length ? '\n' : ''));
}

/** Reads a file sink's output: one file, or every part file of a directory. */
export function readJsonl(path: string): any[] {
  if (!existsSync(path)) return [];
  const files = statSync(path).isDirectory()
    ? readdirSync(path).filter((f) => /^part-\d+\.jsonl$/.test(f)).map((f) => join(path, f))
    : [path];
  return files.flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l)));
}

/** Sorts records by their JSON text: compare outputs as multisets. */
export function canonical(records: unknown[]): string[] {
  return records.map((r) => JSON.stringify(sortKeys(r))).sort();
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}
