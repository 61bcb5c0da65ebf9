/** Tests of the standalone.yaml loader: every check, its exact file:line, defaults and `~` expansion. */
import { userInfo } from 'node:os';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { RlinkError } from '../../core/errors';
import {
  ConfigValidationError,
  expandHome,
  loadStandaloneConfig,
  parseJobManagerUrl,
  parseStandaloneConfig,
  type StandaloneConfig,
} from './index';

const FILE = '/x/standalone.yaml';
const HOME = '/home/alice';
const TEMPLATE = fileURLToPath(new URL('../../standalone.yaml', import.meta.url));

/** The two required settings on lines 1 and 2; tests add their own lines from line 3 on. */
const REQUIRED = ['application_manager_address: ["http://10.0.0.1:8770"]', 'task_manager_work_dir: /data/rlink'];

function yaml(...lines: string[]): string {
  return `${lines.join('\n')}\n`;
}

function parse(...extraLines: string[]): StandaloneConfig {
  return parseStandaloneConfig(yaml(...REQUIRED, ...extraLines), FILE, { home: HOME });
}

/** The ConfigValidationError thrown for `text`. */
function failure(text: string): ConfigValidationError {
  try {
    parseStandaloneConfig(text, FILE, { home: HOME });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected the config to be rejected');
}

/** Asserts that `extraLines` (after the required ones) give exactly one problem, at `line` on `key`. */
function expectOneProblem(extraLines: string[], line: number, key: string, fragment: string): void {
  const error = failure(yaml(...REQUIRED, ...extraLines));
  expect(error.message.split('\n')[0]).toBe(`${FILE}: 1 problem`);
  expect(error.message).toContain(`\n  ${FILE}:${line}: ${key}: ${fragment}`);
  expect(error.problems).toHaveLength(1);
}

describe('the template standalone.yaml', () => {
  it('loads without problems', () => {
    const config = loadStandaloneConfig(TEMPLATE, { home: HOME });
    expect(config.file).toBe(TEMPLATE);
    expect(config.jobManagers).toEqual([{ url: 'http://10.1.2.0:8770', host: '10.1.2.0', port: 8770, line: 5 }]);
    expect(config.metadataStorage).toEqual({ type: 'Memory' });
    expect(config.taskManagerBindIp).toBe('0.0.0.0');
    expect(config.workDir).toBe('/data/rlink/application');
    expect(config.slots).toBe(2);
    expect(config.ssh).toEqual({
      user: 'rlink',
      port: 22,
      identityFile: `${HOME}/.ssh/id_ed25519`,
      knownHosts: `${HOME}/.ssh/known_hosts`,
      connectTimeout: '10s',
    });
    expect(config.checkpoint).toEqual({ dir: '/data/rlink/checkpoints', interval: '10s' });
    expect(config.auth).toEqual({ tokenFile: `${HOME}/.rlink/token` });
    expect(config.node).toBe('node');
    expect(config.deploy).toEqual({ concurrency: 8 });
    expect(config.yarn).toBeUndefined();
  });
});

describe('defaults and values', () => {
  it('fills every default when only the required keys are given', () => {
    const config = parse();
    expect(config.file).toBe(FILE);
    expect(config.metadataStorage).toEqual({ type: 'Memory' });
    expect(config.taskManagerBindIp).toBe('0.0.0.0');
    expect(config.slots).toBe(2);
    expect(config.ssh).toEqual({
      user: userInfo().username,
      port: 22,
      identityFile: `${HOME}/.ssh/id_ed25519`,
      knownHosts: `${HOME}/.ssh/known_hosts`,
      connectTimeout: '10s',
    });
    expect(config.checkpoint).toBeUndefined();
    expect(config.auth.tokenFile).toBe(`${HOME}/.rlink/token`);
    expect(config.node).toBe('node');
    expect(config.deploy.concurrency).toBe(8);
    expect(config.yarn).toBeUndefined();
  });

  it('reads every optional setting', () => {
    const config = parse(
      'metadata_storage: { type: FileSystem, path: /data/rlink/meta }',
      'task_manager_bind_ip: "::"',
      'task_manager_slots: 4',
      'ssh: { user: deploy, port: 2222, identity_file: /keys/id, known_hosts: /keys/known, connect_timeout: 1500 }',
      'checkpoint: { dir: "hdfs://namenode:9820/rlink/checkpoints", interval: 60000 }',
      'auth: { token_file: /etc/rlink/token }',
      'node_path: /opt/node/bin/node',
      'deploy: { concurrency: 256 }',
      'yarn:',
      '  webhdfs: http://namenode:9870',
      '  resource_manager: https://rm:8090',
      '  hdfs_user: hdfs',
      '  queue: streaming',
    );
    expect(config.metadataStorage).toEqual({ type: 'FileSystem', path: '/data/rlink/meta' });
    expect(config.taskManagerBindIp).toBe('::');
    expect(config.slots).toBe(4);
    expect(config.ssh).toEqual({ user: 'deploy', port: 2222, identityFile: '/keys/id', knownHosts: '/keys/known', connectTimeout: '1500ms' });
    expect(config.checkpoint).toEqual({ dir: 'hdfs://namenode:9820/rlink/checkpoints', interval: '60000ms' });
    expect(config.auth.tokenFile).toBe('/etc/rlink/token');
    expect(config.node).toBe('/opt/node/bin/node');
    expect(config.deploy.concurrency).toBe(256);
    expect(config.yarn).toEqual({ webhdfs: 'http://namenode:9870', resourceManager: 'https://rm:8090', hdfsUser: 'hdfs', queue: 'streaming' });
  });

  it('reads several job managers with their lines, IPv6 in brackets and an optional trailing slash', () => {
    const config = parseStandaloneConfig(
      yaml('application_manager_address:', '  - http://jm-1.example.com:8770/', '  - "http://[fd00::1]:8771"', 'task_manager_work_dir: /w'),
      FILE,
      { home: HOME },
    );
    expect(config.jobManagers).toEqual([
      { url: 'http://jm-1.example.com:8770', host: 'jm-1.example.com', port: 8770, line: 2 },
      { url: 'http://[fd00::1]:8771', host: 'fd00::1', port: 8771, line: 3 },
    ]);
  });

  it('accepts the durations 500ms, 10s, 1m and 1h', () => {
    for (const interval of ['500ms', '10s', '1m', '1h']) {
      expect(parse(`checkpoint: { dir: /cp, interval: ${interval} }`).checkpoint).toEqual({ dir: '/cp', interval });
    }
  });
});

describe('~ expansion', () => {
  it('expands ~ with the given home in every path setting', () => {
    const config = parseStandaloneConfig(
      yaml(
        'application_manager_address: ["http://10.0.0.1:8770"]',
        'task_manager_work_dir: ~/rlink',
        'metadata_storage: { type: FileSystem, path: ~/meta }',
        'ssh: { identity_file: ~/.ssh/id_rsa, known_hosts: ~/hosts }',
        'checkpoint: { dir: ~/cp }',
        'auth: { token_file: ~/token }',
      ),
      FILE,
      { home: '/users/bob' },
    );
    expect(config.workDir).toBe('/users/bob/rlink');
    expect(config.metadataStorage).toEqual({ type: 'FileSystem', path: '/users/bob/meta' });
    expect(config.ssh.identityFile).toBe('/users/bob/.ssh/id_rsa');
    expect(config.ssh.knownHosts).toBe('/users/bob/hosts');
    expect(config.checkpoint).toEqual({ dir: '/users/bob/cp' });
    expect(config.auth.tokenFile).toBe('/users/bob/token');
  });

  it('expandHome replaces only ~ and ~/', () => {
    expect(expandHome('~', '/h')).toBe('/h');
    expect(expandHome('~/a/b', '/h')).toBe('/h/a/b');
    expect(expandHome('~bob/a', '/h')).toBe('~bob/a');
    expect(expandHome('/abs/~/x', '/h')).toBe('/abs/~/x');
    expect(expandHome('relative', '/h')).toBe('relative');
  });
});

describe('YAML and top-level shape', () => {
  it('reports a syntax error with its line', () => {
    const error = failure(yaml('application_manager_address: ["http://a:1"]', 'ssh: { user: x', 'task_manager_slots: 2'));
    expect(error.message).toBe(`${FILE}: 1 problem\n  ${FILE}:3: syntax: Flow map in block collection must be sufficiently indented and end with a }`);
    expect(error.code).toBe('RLINK_CONFIG');
  });

  it('reports a tab used as indentation on its line', () => {
    const error = failure(yaml(...REQUIRED, 'ssh:', '\tuser: rlink'));
    expect(error.message).toContain(`  ${FILE}:4: syntax: Tabs are not allowed as indentation`);
  });

  it('names a duplicate key, at any depth, with the line of its first setting', () => {
    const error = failure(yaml(...REQUIRED, 'task_manager_slots: 2', 'task_manager_slots: 3', 'ssh:', '  user: a', '  port: 22', '  user: b', 'checkpoint: { dir: /c, interval: 1s, dir: /d }'));
    expect(error.message).toBe([
      `${FILE}: 3 problems`,
      `  ${FILE}:4: task_manager_slots: duplicate key (first set at line 3)`,
      `  ${FILE}:8: ssh.user: duplicate key (first set at line 6)`,
      `  ${FILE}:9: checkpoint.dir: duplicate key (first set at line 9)`,
    ].join('\n'));
  });

  it('rejects a top level that is a list', () => {
    const error = failure(yaml('- http://a:1'));
    expect(error.message).toBe(`${FILE}: 1 problem\n  ${FILE}:1: (top level): expected a mapping of settings (see the template standalone.yaml); got a list`);
  });

  it('rejects an empty file', () => {
    const error = failure('# only a comment\n');
    expect(error.message).toContain(`  ${FILE}:1: (top level): expected a mapping of settings`);
    expect(error.message).toContain('the file has no settings');
  });
});

describe('unknown keys', () => {
  it('names an unknown top-level key, its line, the known keys and the closest one', () => {
    expectOneProblem(['', 'task_manager_slot: 2'], 4, 'task_manager_slot', 'unknown key (known: application_manager_address, metadata_storage,');
    expect(failure(yaml(...REQUIRED, 'task_manager_slot: 2')).message).toContain('did you mean task_manager_slots?');
  });

  it('suggests the full key for a suffix such as work_dir', () => {
    expect(failure(yaml(REQUIRED[0]!, 'work_dir: /w')).message).toContain(`  ${FILE}:2: work_dir: unknown key`);
    expect(failure(yaml(REQUIRED[0]!, 'work_dir: /w')).message).toContain('did you mean task_manager_work_dir?');
  });

  it('reports unknown nested keys in ssh, metadata_storage, checkpoint, auth, deploy and yarn', () => {
    const error = failure(
      yaml(
        ...REQUIRED,
        'ssh: { usr: rlink }',
        'metadata_storage: { type: Memory, pth: /x }',
        'checkpoint: { dir: /cp, intervall: 10s }',
        'auth: { token: x }',
        'deploy: { parallelism: 4 }',
        'yarn: { queu: default }',
      ),
    );
    expect(error.message).toContain(`  ${FILE}:3: ssh.usr: unknown key (known: user, port, identity_file, known_hosts, connect_timeout); did you mean user?`);
    expect(error.message).toContain(`  ${FILE}:4: metadata_storage.pth: unknown key (known: type, path); did you mean path?`);
    expect(error.message).toContain(`  ${FILE}:5: checkpoint.intervall: unknown key (known: dir, interval); did you mean interval?`);
    expect(error.message).toContain(`  ${FILE}:6: auth.token: unknown key (known: token_file)`);
    expect(error.message).toContain(`  ${FILE}:7: deploy.parallelism: unknown key (known: concurrency)`);
    expect(error.message).toContain(`  ${FILE}:8: yarn.queu: unknown key (known: webhdfs, resource_manager, hdfs_user, queue); did you mean queue?`);
    expect(error.problems).toHaveLength(6);
  });

  it('makes no suggestion when nothing is close', () => {
    const error = failure(yaml(...REQUIRED, 'ssh: { banana: 1 }'));
    expect(error.message).toContain(`  ${FILE}:3: ssh.banana: unknown key (known: user, port, identity_file, known_hosts, connect_timeout)`);
    expect(error.message).not.toContain('did you mean');
  });

  it('reports the line of a key in block style', () => {
    expectOneProblem(['ssh:', '  user: rlink', '', '  prot: 22'], 6, 'ssh.prot', 'unknown key');
    expect(failure(yaml(...REQUIRED, 'ssh:', '  prot: 22')).message).toContain('did you mean port?');
  });
});

describe('types', () => {
  it('wants a string, a number, a list or a mapping where each belongs', () => {
    const error = failure(
      yaml(
        'application_manager_address: http://a:1',
        'task_manager_work_dir: [/a]',
        'task_manager_slots: "2"',
        'ssh: rlink',
        'auth: { token_file: 7 }',
        'node_path: { path: node }',
        'metadata_storage:',
      ),
    );
    expect(error.message).toContain(`  ${FILE}:1: application_manager_address: expected a list, got the string 'http://a:1'`);
    expect(error.message).toContain(`  ${FILE}:2: task_manager_work_dir: expected a string, got a list`);
    expect(error.message).toContain(`  ${FILE}:3: task_manager_slots: expected an integer ≥ 1, got the string '2'`);
    expect(error.message).toContain(`  ${FILE}:4: ssh: expected a mapping, got the string 'rlink'`);
    expect(error.message).toContain(`  ${FILE}:5: auth.token_file: expected a string, got the number 7`);
    expect(error.message).toContain(`  ${FILE}:6: node_path: expected a string, got a mapping`);
    expect(error.message).toContain(`  ${FILE}:7: metadata_storage: expected a mapping, got an empty value`);
    expect(error.problems).toHaveLength(7);
  });

  it('rejects an empty string', () => {
    expectOneProblem(['ssh: { user: "" }'], 3, 'ssh.user', 'must not be empty');
  });
});

describe('application_manager_address', () => {
  it('is required', () => {
    const error = failure(yaml('task_manager_work_dir: /w'));
    expect(error.message).toBe(`${FILE}: 1 problem\n  ${FILE}:1: application_manager_address: required: a list of job manager URLs, e.g. ["http://10.1.2.0:8770"]`);
  });

  it('must not be empty', () => {
    const error = failure(yaml('task_manager_work_dir: /w', 'application_manager_address: []'));
    expect(error.message).toContain(`  ${FILE}:2: application_manager_address: must list at least one job manager URL`);
  });

  it('rejects a bad URL, another scheme, a missing or bad port, a path and a query, each on its line', () => {
    const error = failure(
      yaml(
        'task_manager_work_dir: /w',
        'application_manager_address:',
        '  - not a url',
        '  - https://jm:8770',
        '  - http://jm',
        '  - http://jm:99999',
        '  - http://jm:8770/rlink',
        '  - http://jm:8770/?x=1',
        '  - http://bad_host!:8770',
        '  - 8770',
      ),
    );
    const problem = (line: number, index: number, what: string): string => `  ${FILE}:${line}: application_manager_address[${index}]: ${what}`;
    expect(error.message).toContain(problem(3, 0, `'not a url' is not a URL`));
    expect(error.message).toContain(problem(4, 1, `'https://jm:8770': the scheme must be http, not https`));
    expect(error.message).toContain(problem(5, 2, `'http://jm': missing port`));
    expect(error.message).toContain(problem(6, 3, `'http://jm:99999': bad port '99999' (expected 1..65535)`));
    expect(error.message).toContain(problem(7, 4, `'http://jm:8770/rlink': must not have a path (got /rlink)`));
    expect(error.message).toContain(problem(8, 5, `'http://jm:8770/?x=1': must not have a query or fragment`));
    expect(error.message).toContain(problem(9, 6, `'http://bad_host!:8770': 'bad_host!' is not a valid host name`));
    expect(error.message).toContain(problem(10, 7, 'expected a string, got the number 8770'));
    expect(error.problems).toHaveLength(8);
  });

  it('rejects the same host and port twice, naming the first line', () => {
    const error = failure(yaml('task_manager_work_dir: /w', 'application_manager_address:', '  - http://jm:8770', '  - http://jm:8771', '  - http://JM:8770/'));
    expect(error.message).toBe(
      `${FILE}: 1 problem\n  ${FILE}:5: application_manager_address[2]: duplicate job manager http://JM:8770 (already listed at line 3)`,
    );
  });

  it('parseJobManagerUrl normalizes and explains', () => {
    expect(parseJobManagerUrl('http://h:1/')).toEqual({ url: 'http://h:1', host: 'h', port: 1 });
    expect(parseJobManagerUrl('http://[::1]:8770')).toEqual({ url: 'http://[::1]:8770', host: '::1', port: 8770 });
    expect(parseJobManagerUrl('http://[zz]:8770')).toEqual({ problem: `'http://[zz]:8770': 'zz' is not an IPv6 address` });
    expect(parseJobManagerUrl('http://u:p@h:1')).toHaveProperty('problem');
    expect(parseJobManagerUrl('http://300.1.1.1:1')).toHaveProperty('problem');
  });
});

describe('the other settings', () => {
  it('task_manager_slots is an integer ≥ 1', () => {
    expectOneProblem(['task_manager_slots: 0'], 3, 'task_manager_slots', 'must be an integer ≥ 1, got 0');
    expectOneProblem(['task_manager_slots: 1.5'], 3, 'task_manager_slots', 'expected an integer ≥ 1, got the number 1.5');
  });

  it('ssh.port is in 1..65535', () => {
    expectOneProblem(['ssh: { port: 0 }'], 3, 'ssh.port', 'must be an integer in 1..65535, got 0');
    expectOneProblem(['ssh:', '  port: 65536'], 4, 'ssh.port', 'must be an integer in 1..65535, got 65536');
  });

  it('ssh.connect_timeout is a duration', () => {
    expectOneProblem(['ssh: { connect_timeout: soon }'], 3, 'ssh.connect_timeout', `'soon' is not a duration`);
    expect(parse('ssh: { connect_timeout: 30s }').ssh.connectTimeout).toBe('30s');
  });

  it('metadata_storage.type is Memory or FileSystem', () => {
    expectOneProblem(['metadata_storage: { type: Redis }'], 3, 'metadata_storage.type', `must be Memory or FileSystem, got 'Redis'`);
    expectOneProblem(['metadata_storage: { type: memory }'], 3, 'metadata_storage.type', `must be Memory or FileSystem, got 'memory'; did you mean Memory?`);
    expectOneProblem(['metadata_storage: {}'], 3, 'metadata_storage.type', 'required');
  });

  it('metadata_storage FileSystem needs an absolute path or an hdfs:// URL; Memory takes none', () => {
    expectOneProblem(['metadata_storage:', '  type: FileSystem'], 4, 'metadata_storage.path', 'required for type FileSystem');
    expectOneProblem(['metadata_storage: { type: FileSystem, path: meta }'], 3, 'metadata_storage.path', `must be an absolute path (or start with ~/) or an hdfs:// URL, got 'meta'`);
    expectOneProblem(['metadata_storage: { type: FileSystem, path: "s3://bucket/meta" }'], 3, 'metadata_storage.path', `'s3://bucket/meta': only absolute paths and hdfs://namenode[:port]/path are supported, not s3://`);
    expectOneProblem(['metadata_storage:', '  type: Memory', '  path: /meta'], 5, 'metadata_storage.path', 'only type FileSystem takes a path');
  });

  it('task_manager_work_dir is required and absolute after ~ expansion', () => {
    const missing = failure(yaml(REQUIRED[0]!));
    expect(missing.message).toContain(`  ${FILE}:1: task_manager_work_dir: required`);
    const relative = failure(yaml(REQUIRED[0]!, '', 'task_manager_work_dir: data/rlink'));
    expect(relative.message).toBe(`${FILE}: 1 problem\n  ${FILE}:3: task_manager_work_dir: must be an absolute path (or start with ~/), got 'data/rlink'`);
  });

  it('task_manager_bind_ip is an IPv4 or IPv6 literal', () => {
    expectOneProblem(['task_manager_bind_ip: my-host'], 3, 'task_manager_bind_ip', `'my-host' is not an IPv4 or IPv6 address`);
    expectOneProblem(['task_manager_bind_ip: 10.0.0.256'], 3, 'task_manager_bind_ip', `'10.0.0.256' is not an IPv4 or IPv6 address`);
    expect(parse('task_manager_bind_ip: 10.0.0.5').taskManagerBindIp).toBe('10.0.0.5');
    expect(parse('task_manager_bind_ip: "fe80::1"').taskManagerBindIp).toBe('fe80::1');
  });

  it('checkpoint.dir is an absolute path or an hdfs:// URL, and required', () => {
    expectOneProblem(['checkpoint: { dir: checkpoints }'], 3, 'checkpoint.dir', 'must be an absolute path (or start with ~/) or an hdfs:// URL');
    expectOneProblem(['checkpoint: { dir: "s3://bucket/cp" }'], 3, 'checkpoint.dir', `'s3://bucket/cp': only absolute paths and hdfs://namenode[:port]/path are supported, not s3://`);
    expectOneProblem(['checkpoint:', '  dir: "hdfs://namenode:9820"'], 4, 'checkpoint.dir', `'hdfs://namenode:9820' has no directory (expected hdfs://namenode[:port]/path)`);
    expectOneProblem(['checkpoint: { interval: 10s }'], 3, 'checkpoint.dir', 'required');
    expect(parse('checkpoint: { dir: "hdfs://nn/rlink/cp" }').checkpoint).toEqual({ dir: 'hdfs://nn/rlink/cp' });
  });

  it('checkpoint.interval is a positive duration or a number of milliseconds', () => {
    expectOneProblem(['checkpoint: { dir: /cp, interval: 10 seconds }'], 3, 'checkpoint.interval', `'10 seconds' is not a duration`);
    expectOneProblem(['checkpoint: { dir: /cp, interval: 0 }'], 3, 'checkpoint.interval', 'must be longer than 0');
    expectOneProblem(['checkpoint: { dir: /cp, interval: [10s] }'], 3, 'checkpoint.interval', 'expected a duration such as 500ms, 10s, 1m or 1h');
  });

  it('yarn.webhdfs and yarn.resource_manager are http(s) URLs', () => {
    const error = failure(yaml(...REQUIRED, 'yarn:', '  webhdfs: "namenode:9870"', '  resource_manager: "ftp://rm:8088"'));
    expect(error.message).toContain(`  ${FILE}:4: yarn.webhdfs: 'namenode:9870' must be an http:// or https:// URL`);
    expect(error.message).toContain(`  ${FILE}:5: yarn.resource_manager: 'ftp://rm:8088' must be an http:// or https:// URL`);
  });

  it('deploy.concurrency is an integer in 1..256', () => {
    expectOneProblem(['deploy: { concurrency: 0 }'], 3, 'deploy.concurrency', 'must be an integer in 1..256, got 0');
    expectOneProblem(['deploy: { concurrency: 257 }'], 3, 'deploy.concurrency', 'must be an integer in 1..256, got 257');
  });
});

describe('reporting', () => {
  it('reports every problem together, ordered by line, as one RlinkError', () => {
    const text = yaml(
      'application_manager_address: ["http://jm"]',
      'task_manager_work_dir: relative',
      'task_manager_slots: 0',
      'ssh: { usr: rlink, port: 70000 }',
      'colour: blue',
    );
    const error = failure(text);
    expect(error).toBeInstanceOf(RlinkError);
    expect(error.code).toBe('RLINK_CONFIG');
    expect(error.message.split('\n')).toEqual([
      `${FILE}: 6 problems`,
      `  ${FILE}:1: application_manager_address[0]: 'http://jm': missing port (expected http://host:port, e.g. http://10.1.2.0:8770)`,
      `  ${FILE}:2: task_manager_work_dir: must be an absolute path (or start with ~/), got 'relative'`,
      `  ${FILE}:3: task_manager_slots: must be an integer ≥ 1, got 0`,
      `  ${FILE}:4: ssh.usr: unknown key (known: user, port, identity_file, known_hosts, connect_timeout); did you mean user?`,
      `  ${FILE}:4: ssh.port: must be an integer in 1..65535, got 70000`,
      `  ${FILE}:5: colour: unknown key (known: application_manager_address, metadata_storage, task_manager_bind_ip, task_manager_work_dir, task_manager_slots, ssh, checkpoint, auth, node_path, deploy, yarn, kubernetes)`,
    ]);
    expect(error.context).toEqual({ file: FILE, line: 1, key: 'application_manager_address[0]' });
    expect(error.problems.map((p) => [p.line, p.key])).toEqual([
      [1, 'application_manager_address[0]'],
      [2, 'task_manager_work_dir'],
      [3, 'task_manager_slots'],
      [4, 'ssh.usr'],
      [4, 'ssh.port'],
      [5, 'colour'],
    ]);
  });

  it('names a file that cannot be read', () => {
    const missing = '/nonexistent/rlink/standalone.yaml';
    expect(() => loadStandaloneConfig(missing)).toThrow(RlinkError);
    try {
      loadStandaloneConfig(missing);
    } catch (err) {
      expect((err as RlinkError).code).toBe('RLINK_CONFIG');
      expect((err as RlinkError).message).toMatch(new RegExp(`^${missing}: cannot read: ENOENT`));
      expect((err as RlinkError).context.file).toBe(missing);
    }
  });
});

describe('the kubernetes: section', () => {
  it('reads every key as written', () => {
    const config = parse(
      'kubernetes:',
      '  namespace: streaming',
      '  context: prod',
      '  image_path: registry.example.com/rlink:0.9',
      '  image_pull_policy: IfNotPresent',
      '  service_account: rlink',
      '  job_v_cores: 2',
      '  job_memory_mb: 2048',
      '  task_v_cores: 4',
      '  task_memory_mb: 4096',
      '  num_task_managers: 3',
    );
    expect(config.kubernetes).toEqual({
      namespace: 'streaming', context: 'prod', imagePath: 'registry.example.com/rlink:0.9', imagePullPolicy: 'IfNotPresent', serviceAccount: 'rlink',
      jobVCores: 2, jobMemoryMb: 2048, taskVCores: 4, taskMemoryMb: 4096, numTaskManagers: 3,
    });
  });

  it('reports every problem with its line: unknown keys, bad names, bad numbers, bad policies', () => {
    const error = failure(yaml(...REQUIRED, 'kubernetes:', '  namespace: Prod_NS', '  image: rlink:1', '  task_v_cores: 0', '  image_pull_policy: sometimes', '  num_task_managers: two'));
    expect(error.message.split('\n')[0]).toBe(`${FILE}: 5 problems`);
    expect(error.message).toContain(`  ${FILE}:4: kubernetes.namespace: 'Prod_NS' is not a valid namespace name`);
    expect(error.message).toContain(`  ${FILE}:5: kubernetes.image: unknown key (known: namespace, context, image_path, image_pull_policy, service_account, job_v_cores, job_memory_mb, task_v_cores, task_memory_mb, num_task_managers)`);
    expect(error.message).toContain(`  ${FILE}:6: kubernetes.task_v_cores: must be an integer in 1..256, got 0`);
    expect(error.message).toContain(`  ${FILE}:7: kubernetes.image_pull_policy: must be one of Always, IfNotPresent, Never, got 'sometimes'`);
    expect(error.message).toContain(`  ${FILE}:8: kubernetes.num_task_managers: expected an integer in 1..10000`);
  });

  it('with sectionsOnly, a file of sections needs no cluster keys (a Kubernetes or YARN user has no hosts)', () => {
    const config = parseStandaloneConfig(yaml('kubernetes:', '  image_path: rlink:1', 'checkpoint: { dir: /shared/chk, interval: 10s }'), FILE, { home: HOME, sectionsOnly: true });
    expect(config.kubernetes).toEqual({ imagePath: 'rlink:1' });
    expect(config.checkpoint).toEqual({ dir: '/shared/chk', interval: '10s' });
    expect(config.jobManagers).toEqual([]);
    expect(() => parseStandaloneConfig(yaml('kubernetes: { image_path: rlink:1 }'), FILE, { home: HOME })).toThrow(/application_manager_address: required/);
  });
});
