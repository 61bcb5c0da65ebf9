/**
 * Jobs written as text instead of code: a config file (`job.yaml`) or a SQL script (`job.sql`).
 * `rlink run` and `rlink submit` bundle them like a TypeScript job: the bundle is a small module that
 * hands the file's text to {@link configFileApp} or {@link sqlScriptApp} from 'rlink', so every task
 * manager parses and builds the same job. The file's settings (and the framework defaults file) are
 * turned into job properties by the CLI, below whatever the command line sets.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { defineApp, type AppDefinition } from '../api/app';
import { ProblemList, parseYaml, readConfigFile } from '../config/yaml-reader';
import { parseJobFile, readSettings } from './parse';
import { buildJobFile } from './build';
import { parseSqlScript, scriptSettings, sqlScriptApp } from '../sql/script';

export { sqlScriptApp };

/** The app of a config-file job; the text is checked here (every problem at once, RLINK_CONFIG). */
export function configFileApp(text: string, file: string): AppDefinition {
  const job = parseJobFile(text, file);
  return defineApp({
    name: job.name,
    prepareProperties(props) {
      for (const [k, v] of Object.entries(job.settings)) if (!props.has(k)) props.set(k, v);
    },
    build(env, props) { buildJobFile(job, env, props); },
  });
}

export type TextJobKind = 'config' | 'sql';

/** A `.yaml`/`.yml` config-file job or a `.sql` script; undefined for code. */
export function textJobKind(file: string): TextJobKind | undefined {
  const ext = extname(file).toLowerCase();
  return ext === '.yaml' || ext === '.yml' ? 'config' : ext === '.sql' ? 'sql' : undefined;
}

/**
 * The module a text job is bundled from, after checking the file (so its problems are reported before
 * anything is bundled or sent): it imports 'rlink' and exports the app made from the text.
 */
export function textJobModule(file: string, displayName = file): string {
  const text = readConfigFile(file);
  const kind = textJobKind(file);
  if (kind === 'sql') {
    parseSqlScript(text, displayName);
    return `import { sqlScriptApp } from 'rlink';\nexport default sqlScriptApp(${JSON.stringify(text)}, ${JSON.stringify(displayName)});\n`;
  }
  parseJobFile(text, displayName);
  return `import { configFileApp } from 'rlink';\nexport default configFileApp(${JSON.stringify(text)}, ${JSON.stringify(displayName)});\n`;
}

/**
 * The framework defaults file for a text job: $RLINK_DEFAULTS, else `rlink-defaults.yaml` next to the
 * job, else `rlink-defaults.yaml` in the working directory, else `standalone.yaml` there (its
 * `checkpoint:` section).
 */
export function findDefaultsFile(jobFile: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.RLINK_DEFAULTS) return resolve(cwd, env.RLINK_DEFAULTS);
  for (const f of [join(dirname(resolve(cwd, jobFile)), 'rlink-defaults.yaml'), join(cwd, 'rlink-defaults.yaml'), join(cwd, 'standalone.yaml')]) {
    if (existsSync(f)) return f;
  }
  return undefined;
}

/**
 * The properties of a defaults file: `rlink-defaults.yaml` has the keys of a job's `settings:`
 * (parallelism, checkpoint, restart, properties); a `standalone.yaml` gives its `checkpoint:` section.
 * Problems are reported with file:line like any configuration file.
 */
export function loadDefaults(file: string): Record<string, string> {
  const problems = new ProblemList(file);
  const { reader, root } = parseYaml(readConfigFile(file), problems);
  if (!isMap(root.node)) {
    const empty = root.node === null || (isScalar(root.node) && root.node.value === null);
    if (!empty) reader.fail(root, 'expected a mapping of settings (checkpoint, restart, parallelism, properties)');
    problems.throwIfAny();
    return {};
  }
  const top = reader.pairs(root) ?? new Map();
  let out: Record<string, string> = {};
  if (basename(file) === 'standalone.yaml' || top.has('application_manager_address') || top.has('task_manager_work_dir')) {
    const cp = top.get('checkpoint');
    const m = cp && reader.mapping(cp, ['dir', 'interval']);
    if (m?.get('dir')) { const v = reader.string(m.get('dir')!); if (v !== undefined) out['checkpoint.dir'] = v; }
    if (m?.get('interval')) { const v = reader.duration(m.get('interval')!); if (v !== undefined) out['checkpoint.interval'] = v; }
  } else {
    out = readSettings(reader, root);
  }
  problems.throwIfAny();
  return out;
}

/**
 * The properties a text job brings: the defaults file's, overridden by the job's own settings
 * (`settings:` of a config file, SET statements of a script). The CLI sets each one the command line
 * did not.
 */
export function textJobProperties(file: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { properties: Record<string, string>; defaultsFile?: string } {
  const cwd = opts.cwd ?? process.cwd();
  const defaultsFile = findDefaultsFile(file, cwd, opts.env ?? process.env);
  const defaults = defaultsFile ? loadDefaults(defaultsFile) : {};
  const text = readFileSync(resolve(cwd, file), 'utf8');
  const own = textJobKind(file) === 'sql' ? scriptSettings(parseSqlScript(text, file)) : parseJobFile(text, file).settings;
  return { properties: { ...defaults, ...own }, ...(defaultsFile ? { defaultsFile } : {}) };
}
