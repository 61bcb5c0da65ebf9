/**
 * The daemons' flags, declared once: `rlink jobmanager start` and `rlink taskmanager start` build their
 * oclif flags from these tables (cli/lib/daemon-flags.ts), and the runtime bundle (`node rlink.mjs
 * jobmanager start …` on a host, in a YARN container or a Kubernetes pod) parses its command line
 * with {@link parseDaemonArgv} against the same tables, so both accept exactly the same flags.
 *
 * The runtime has no oclif: it needs to start fast and stay one small file. The parser follows
 * oclif's conventions (`--flag value` and `--flag=value`, repeatable flags, `--json`,
 * `--log-level`, `--help`) and its wording for bad input (`Nonexistent flag: --x`, `Expected an
 * integer but received: x`).
 */
import { parseArgs } from 'node:util';
import { RlinkError } from '../../core/errors';

interface Common {
  description: string;
  helpGroup?: string;
  hidden?: boolean;
}
export type FlagSpec =
  | (Common & { type: 'integer'; default?: number; min?: number; max?: number })
  | (Common & { type: 'string'; default?: string; multiple?: boolean; options?: readonly string[] })
  | (Common & { type: 'boolean'; default?: boolean });

/** A table of flags: every key of the flags' type declared once. */
export type FlagTable<F> = { readonly [K in keyof F]-?: FlagSpec };

/** `--log-level`, as every rlink command has it. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

export interface ParsedDaemonArgv<F> {
  flags: F;
  json: boolean;
  help: boolean;
}

/** Parses a daemon's command line against its table; one RLINK_CLI error per problem, worded as oclif's. */
export function parseDaemonArgv<F>(table: FlagTable<F>, argv: readonly string[]): ParsedDaemonArgv<F> {
  const specs = table as unknown as Record<string, FlagSpec>;
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }> = {
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
    'log-level': { type: 'string' },
  };
  for (const [name, s] of Object.entries(specs)) {
    options[name] = { type: s.type === 'boolean' ? 'boolean' : 'string', ...(s.type === 'string' && s.multiple ? { multiple: true } : {}) };
  }
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    ({ values } = parseArgs({ args: [...argv], options, strict: true, allowPositionals: false }));
  } catch (e) {
    throw new RlinkError('RLINK_CLI', parseError(e, argv));
  }
  const flags: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(specs)) {
    const raw = values[name];
    if (raw === undefined) {
      if (s.default !== undefined) flags[name] = s.default;
      continue;
    }
    if (s.type === 'boolean') flags[name] = raw === true;
    else if (s.type === 'integer') flags[name] = integerValue(name, String(raw), s);
    else {
      const list = (Array.isArray(raw) ? raw : [raw]).map(String);
      for (const v of list) {
        if (s.options && !s.options.includes(v)) throw new RlinkError('RLINK_CLI', `Expected --${name}=${v} to be one of: ${s.options.join(', ')}`);
      }
      flags[name] = s.multiple ? list : list[0];
    }
  }
  const logLevel = values['log-level'];
  if (typeof logLevel === 'string') {
    if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) throw new RlinkError('RLINK_CLI', `Expected --log-level=${logLevel} to be one of: ${LOG_LEVELS.join(', ')}`);
    flags['log-level'] = logLevel;
  }
  return { flags: flags as F, json: values.json === true, help: values.help === true };
}

function integerValue(name: string, text: string, s: { min?: number; max?: number }): number {
  if (!/^-?\d+$/.test(text.trim())) throw new RlinkError('RLINK_CLI', `Parsing --${name}: Expected an integer but received: ${text}`);
  const n = Number(text);
  if (s.min !== undefined && n < s.min) throw new RlinkError('RLINK_CLI', `Parsing --${name}: Expected an integer greater than or equal to ${s.min} but received: ${text}`);
  if (s.max !== undefined && n > s.max) throw new RlinkError('RLINK_CLI', `Parsing --${name}: Expected an integer less than or equal to ${s.max} but received: ${text}`);
  return n;
}

function parseError(e: unknown, argv: readonly string[]): string {
  const code = (e as { code?: string }).code;
  const message = e instanceof Error ? e.message : String(e);
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const flag = /'(-[^']*)'/.exec(message)?.[1] ?? '?';
    return `Nonexistent flag: ${flag}`;
  }
  if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
    const arg = /'([^']*)'/.exec(message)?.[1] ?? argv.find((a) => !a.startsWith('-')) ?? '?';
    return `Unexpected argument: ${arg}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const flag = /'(--?[^ ']+)/.exec(message)?.[1] ?? '';
    return `Flag ${flag} expects a value`;
  }
  return message;
}

/** The help text of a daemon's runtime command (the CLI's is oclif's, from the same table). */
export function daemonHelp<F>(usage: string, summary: string, table: FlagTable<F>): string {
  const lines = [summary, '', `USAGE`, `  $ ${usage} [FLAGS]`, '', 'FLAGS'];
  const entries = Object.entries(table as unknown as Record<string, FlagSpec>).filter(([, s]) => !s.hidden);
  const names = entries.map(([name, s]) => `--${name}${s.type === 'boolean' ? '' : `=<${s.type === 'integer' ? 'value' : s.type === 'string' && s.options ? s.options.join('|') : 'value'}>`}`);
  const width = Math.max(...names.map((n) => n.length), '--log-level=<level>'.length) + 2;
  entries.forEach(([, s], i) => {
    const dflt = s.default !== undefined && s.default !== false ? ` [default: ${String(s.default)}]` : '';
    lines.push(`  ${names[i]!.padEnd(width)}${s.description}${dflt}`);
  });
  lines.push(`  ${'--json'.padEnd(width)}Format output as json (the ready line, and failures).`);
  lines.push(`  ${'--log-level=<level>'.padEnd(width)}Level of the logs written to stderr (default: $RLINK_LOG_LEVEL, else info).`);
  return `${lines.join('\n')}\n`;
}
