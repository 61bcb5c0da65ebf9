/**
 * Loader of `standalone.yaml`, the cluster description read by `rlink deploy standalone` (and the
 * optional `yarn:` section used by `rlink submit --yarn`): rlink's schema only. Every key is checked;
 * all problems of a file are reported together in one RLINK_CONFIG error, each as
 * `<file>:<line>: <key path>: <what>`. Reading YAML with line numbers is core/config/yaml-reader.ts;
 * host, port and job-manager URL checks are ./addresses.ts.
 */
import { isIP } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { posix, resolve } from 'node:path';
import { isMap, isScalar } from 'yaml';
import { expandHome } from '../../core/fs/paths';
import { ProblemList, describe, parseYaml, readConfigFile, type Entry, type YamlReader } from '../../core/config/yaml-reader';
import { parseJobManagerUrl } from './addresses';

export interface JobManagerAddress {
  /** Normalized `http://host:port` (IPv6 hosts in brackets), no trailing slash. */
  url: string;
  /** The host as SSH reaches it (IPv6 without brackets). */
  host: string;
  port: number;
  /** Line of the URL in the yaml. */
  line: number;
}

export interface StandaloneConfig {
  file: string;
  jobManagers: JobManagerAddress[];
  metadataStorage: { type: 'Memory' } | { type: 'FileSystem'; path: string };
  taskManagerBindIp: string;
  workDir: string;
  slots: number;
  ssh: { user: string; port: number; identityFile: string; knownHosts: string; connectTimeout: string };
  checkpoint?: { dir: string; interval?: string };
  auth: { tokenFile: string };
  node: string;
  deploy: { concurrency: number };
  yarn?: { webhdfs?: string; resourceManager?: string; hdfsUser?: string; queue?: string };
  kubernetes?: KubernetesSection;
}

/** The `kubernetes:` section: defaults for `rlink deploy|status|stop kubernetes` (flags win). */
export interface KubernetesSection {
  namespace?: string;
  /** A context of the kubeconfig (default: its current context). */
  context?: string;
  /** The image with Node.js and rlink's runtime (rlink-rs: image_path). */
  imagePath?: string;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  serviceAccount?: string;
  jobVCores?: number;
  jobMemoryMb?: number;
  taskVCores?: number;
  taskMemoryMb?: number;
  numTaskManagers?: number;
}

// ---------------------------------------------------------------------------------------------
// standalone.yaml
// ---------------------------------------------------------------------------------------------

const TOP_LEVEL_KEYS = [
  'application_manager_address',
  'metadata_storage',
  'task_manager_bind_ip',
  'task_manager_work_dir',
  'task_manager_slots',
  'ssh',
  'checkpoint',
  'auth',
  'node_path',
  'deploy',
  'yarn',
  'kubernetes',
] as const;
const METADATA_STORAGE_KEYS = ['type', 'path'] as const;
const SSH_KEYS = ['user', 'port', 'identity_file', 'known_hosts', 'connect_timeout'] as const;
const CHECKPOINT_KEYS = ['dir', 'interval'] as const;
const AUTH_KEYS = ['token_file'] as const;
const DEPLOY_KEYS = ['concurrency'] as const;
const YARN_KEYS = ['webhdfs', 'resource_manager', 'hdfs_user', 'queue'] as const;
const KUBERNETES_KEYS = ['namespace', 'context', 'image_path', 'image_pull_policy', 'service_account', 'job_v_cores', 'job_memory_mb', 'task_v_cores', 'task_memory_mb', 'num_task_managers'] as const;
const IMAGE_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'] as const;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const DEFAULT_BIND_IP = '0.0.0.0';
const DEFAULT_SLOTS = 2;
const DEFAULT_SSH_PORT = 22;
const DEFAULT_IDENTITY_FILE = '~/.ssh/id_ed25519';
const DEFAULT_KNOWN_HOSTS = '~/.ssh/known_hosts';
const DEFAULT_CONNECT_TIMEOUT = '10s';
const DEFAULT_TOKEN_FILE = '~/.rlink/token';
const DEFAULT_NODE = 'node';
const DEFAULT_DEPLOY_CONCURRENCY = 8;
const MAX_DEPLOY_CONCURRENCY = 256;

export interface LoadOptions {
  home?: string;
  /**
   * The file only supplies sections (checkpoint, auth, yarn, kubernetes) to a command that does not
   * deploy hosts: the cluster keys (application_manager_address, task_manager_work_dir) may be missing.
   */
  sectionsOnly?: boolean;
}

/** Reads and validates `standalone.yaml`; throws one RLINK_CONFIG error listing every problem. */
export function loadStandaloneConfig(file: string, opts: LoadOptions = {}): StandaloneConfig {
  const path = resolve(file);
  return parseStandaloneConfig(readConfigFile(path), path, opts);
}

/** Validates the text of a `standalone.yaml`; `file` names it in messages (made absolute). */
export function parseStandaloneConfig(text: string, file: string, opts: LoadOptions = {}): StandaloneConfig {
  const path = resolve(file);
  const home = opts.home ?? homedir();
  const problems = new ProblemList(path);
  const { reader, root } = parseYaml(text, problems);
  if (!isMap(root.node)) {
    const what = root.node === null || (isScalar(root.node) && root.node.value === null) ? 'the file has no settings' : `got ${describe(root.node)}`;
    problems.add(root.line, '(top level)', `expected a mapping of settings (see the template standalone.yaml); ${what}`);
    problems.throwIfAny();
  }
  const top = reader.mapping(root, TOP_LEVEL_KEYS) ?? new Map<string, Entry>();

  const jobManagers = opts.sectionsOnly && !top.has('application_manager_address') ? [] : readJobManagers(reader, top.get('application_manager_address'));
  const metadataStorage = readMetadataStorage(reader, top.get('metadata_storage'), home);

  let taskManagerBindIp = DEFAULT_BIND_IP;
  const bindIp = top.get('task_manager_bind_ip');
  if (bindIp) {
    const ip = reader.string(bindIp);
    if (ip !== undefined && isIP(ip) === 0) reader.fail(bindIp, `'${ip}' is not an IPv4 or IPv6 address (use 0.0.0.0 for every interface)`);
    else if (ip !== undefined) taskManagerBindIp = ip;
  }

  let workDir = '';
  const workDirEntry = top.get('task_manager_work_dir');
  if (workDirEntry) workDir = reader.absolutePath(workDirEntry, home) ?? '';
  else if (!opts.sectionsOnly) problems.add(1, 'task_manager_work_dir', 'required: the working directory on every host (e.g. /data/rlink/application)');

  const slotsEntry = top.get('task_manager_slots');
  const slots = (slotsEntry && reader.integer(slotsEntry, 1, Number.MAX_SAFE_INTEGER)) || DEFAULT_SLOTS;

  const ssh = readSsh(reader, top.get('ssh'), home);
  const checkpoint = readCheckpoint(reader, top.get('checkpoint'), home);

  let tokenFile = expandHome(DEFAULT_TOKEN_FILE, home);
  const authEntry = top.get('auth');
  const auth = authEntry && reader.mapping(authEntry, AUTH_KEYS);
  const tokenFileEntry = auth?.get('token_file');
  if (tokenFileEntry) {
    const value = reader.string(tokenFileEntry);
    if (value !== undefined) tokenFile = expandHome(value, home);
  }

  const nodeEntry = top.get('node_path');
  const node = (nodeEntry && reader.string(nodeEntry)) || DEFAULT_NODE;

  let concurrency = DEFAULT_DEPLOY_CONCURRENCY;
  const deployEntry = top.get('deploy');
  const deploy = deployEntry && reader.mapping(deployEntry, DEPLOY_KEYS);
  const concurrencyEntry = deploy?.get('concurrency');
  if (concurrencyEntry) concurrency = reader.integer(concurrencyEntry, 1, MAX_DEPLOY_CONCURRENCY) ?? DEFAULT_DEPLOY_CONCURRENCY;

  const yarn = readYarn(reader, top.get('yarn'));
  const kubernetes = readKubernetes(reader, top.get('kubernetes'));

  problems.throwIfAny();
  return {
    file: path,
    jobManagers,
    metadataStorage,
    taskManagerBindIp,
    workDir,
    slots,
    ssh,
    ...(checkpoint ? { checkpoint } : {}),
    auth: { tokenFile },
    node,
    deploy: { concurrency },
    ...(yarn ? { yarn } : {}),
    ...(kubernetes ? { kubernetes } : {}),
  };
}

function readJobManagers(reader: YamlReader, entry: Entry | undefined): JobManagerAddress[] {
  const jobManagers: JobManagerAddress[] = [];
  if (!entry) {
    reader.problems.add(1, 'application_manager_address', 'required: a list of job manager URLs, e.g. ["http://10.1.2.0:8770"]');
    return jobManagers;
  }
  const items = reader.list(entry);
  if (!items) return jobManagers;
  if (items.length === 0) reader.fail(entry, 'must list at least one job manager URL, e.g. ["http://10.1.2.0:8770"]');
  const seen = new Map<string, number>();
  for (const item of items) {
    const text = reader.string(item);
    if (text === undefined) continue;
    const parsed = parseJobManagerUrl(text);
    if ('problem' in parsed) {
      reader.fail(item, parsed.problem);
      continue;
    }
    const identity = `${parsed.host.toLowerCase()}:${parsed.port}`;
    const firstLine = seen.get(identity);
    if (firstLine !== undefined) {
      reader.fail(item, `duplicate job manager ${parsed.url} (already listed at line ${firstLine})`);
      continue;
    }
    seen.set(identity, item.line);
    jobManagers.push({ ...parsed, line: item.line });
  }
  return jobManagers;
}

function readMetadataStorage(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['metadataStorage'] {
  if (!entry) return { type: 'Memory' };
  const storage = reader.mapping(entry, METADATA_STORAGE_KEYS);
  if (!storage) return { type: 'Memory' };
  const typeEntry = storage.get('type');
  const pathEntry = storage.get('path');
  if (!typeEntry) {
    reader.problems.add(entry.line, `${entry.path}.type`, 'required: { type: Memory } or { type: FileSystem, path: /data/rlink/meta }');
    return { type: 'Memory' };
  }
  const type = reader.string(typeEntry);
  if (type === 'FileSystem') {
    if (!pathEntry) {
      reader.problems.add(typeEntry.keyLine, `${entry.path}.path`, 'required for type FileSystem (an absolute directory every job manager reaches, e.g. /data/rlink/meta, or hdfs://namenode:8020/rlink/meta)');
      return { type: 'Memory' };
    }
    const path = storageDir(reader, pathEntry, home);
    return path === undefined ? { type: 'Memory' } : { type: 'FileSystem', path };
  }
  if (type === 'Memory') {
    if (pathEntry) reader.fail(pathEntry, 'only type FileSystem takes a path', true);
    return { type: 'Memory' };
  }
  if (type !== undefined) {
    const suggestion = ['Memory', 'FileSystem'].find((known) => known.toLowerCase() === type.toLowerCase().replace(/[-_ ]/g, ''));
    reader.fail(typeEntry, `must be Memory or FileSystem, got '${type}'${suggestion ? `; did you mean ${suggestion}?` : ''}`);
  }
  return { type: 'Memory' };
}

function readSsh(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['ssh'] {
  const ssh: StandaloneConfig['ssh'] = {
    user: currentUser(),
    port: DEFAULT_SSH_PORT,
    identityFile: expandHome(DEFAULT_IDENTITY_FILE, home),
    knownHosts: expandHome(DEFAULT_KNOWN_HOSTS, home),
    connectTimeout: DEFAULT_CONNECT_TIMEOUT,
  };
  const section = entry && reader.mapping(entry, SSH_KEYS);
  if (!section) return ssh;
  const user = section.get('user');
  const port = section.get('port');
  const identityFile = section.get('identity_file');
  const knownHosts = section.get('known_hosts');
  const connectTimeout = section.get('connect_timeout');
  if (user) ssh.user = reader.string(user) ?? ssh.user;
  if (port) ssh.port = reader.integer(port, 1, 65535) ?? ssh.port;
  if (identityFile) ssh.identityFile = expandHome(reader.string(identityFile) ?? DEFAULT_IDENTITY_FILE, home);
  if (knownHosts) ssh.knownHosts = expandHome(reader.string(knownHosts) ?? DEFAULT_KNOWN_HOSTS, home);
  if (connectTimeout) ssh.connectTimeout = reader.duration(connectTimeout) ?? ssh.connectTimeout;
  return ssh;
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env['USER'] ?? process.env['LOGNAME'] ?? 'root';
  }
}

function readCheckpoint(reader: YamlReader, entry: Entry | undefined, home: string): StandaloneConfig['checkpoint'] {
  if (!entry) return undefined;
  const section = reader.mapping(entry, CHECKPOINT_KEYS);
  if (!section) return undefined;
  const dirEntry = section.get('dir');
  const intervalEntry = section.get('interval');
  let dir: string | undefined;
  if (!dirEntry) reader.problems.add(entry.line, `${entry.path}.dir`, 'required: an absolute directory every host can reach, or hdfs://namenode[:port]/path');
  else dir = storageDir(reader, dirEntry, home);
  const interval = intervalEntry ? reader.duration(intervalEntry) : undefined;
  if (dir === undefined) return undefined;
  return interval === undefined ? { dir } : { dir, interval };
}

/** A directory every host reaches: an absolute path (~/ expanded) or hdfs://namenode[:port]/path. */
function storageDir(reader: YamlReader, entry: Entry, home: string): string | undefined {
  const text = reader.string(entry);
  if (text === undefined) return undefined;
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(text)?.[1];
  if (scheme === undefined) {
    const expanded = expandHome(text, home);
    if (!posix.isAbsolute(expanded)) return reader.fail(entry, `must be an absolute path (or start with ~/) or an hdfs:// URL, got '${text}'`);
    return expanded;
  }
  if (scheme.toLowerCase() !== 'hdfs') return reader.fail(entry, `'${text}': only absolute paths and hdfs://namenode[:port]/path are supported, not ${scheme}://`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return reader.fail(entry, `'${text}' is not a valid hdfs://namenode[:port]/path URL`);
  }
  if (url.hostname === '') return reader.fail(entry, `'${text}' has no namenode host (expected hdfs://namenode[:port]/path)`);
  if (url.pathname === '' || url.pathname === '/') return reader.fail(entry, `'${text}' has no directory (expected hdfs://namenode[:port]/path)`);
  return text;
}

function readYarn(reader: YamlReader, entry: Entry | undefined): StandaloneConfig['yarn'] {
  if (!entry) return undefined;
  const section = reader.mapping(entry, YARN_KEYS);
  if (!section) return undefined;
  const yarn: NonNullable<StandaloneConfig['yarn']> = {};
  const webhdfs = section.get('webhdfs');
  const resourceManager = section.get('resource_manager');
  const hdfsUser = section.get('hdfs_user');
  const queue = section.get('queue');
  const webhdfsUrl = webhdfs && reader.httpUrl(webhdfs);
  const resourceManagerUrl = resourceManager && reader.httpUrl(resourceManager);
  const hdfsUserName = hdfsUser && reader.string(hdfsUser);
  const queueName = queue && reader.string(queue);
  if (webhdfsUrl) yarn.webhdfs = webhdfsUrl;
  if (resourceManagerUrl) yarn.resourceManager = resourceManagerUrl;
  if (hdfsUserName) yarn.hdfsUser = hdfsUserName;
  if (queueName) yarn.queue = queueName;
  return yarn;
}

function readKubernetes(reader: YamlReader, entry: Entry | undefined): KubernetesSection | undefined {
  if (!entry) return undefined;
  const section = reader.mapping(entry, KUBERNETES_KEYS);
  if (!section) return undefined;
  const k: KubernetesSection = {};
  const label = (name: string, what: string): string | undefined => {
    const e = section.get(name);
    const v = e && reader.string(e);
    if (e && v !== undefined && (!DNS_LABEL.test(v) || v.length > 63)) return reader.fail(e, `'${v}' is not a valid ${what} (lower-case letters, digits and '-', at most 63 characters)`);
    return v;
  };
  const namespace = label('namespace', 'namespace name');
  if (namespace) k.namespace = namespace;
  const serviceAccount = section.get('service_account') && reader.string(section.get('service_account')!);
  if (serviceAccount) k.serviceAccount = serviceAccount;
  const context = section.get('context') && reader.string(section.get('context')!);
  if (context) k.context = context;
  const image = section.get('image_path');
  const imagePath = image && reader.string(image);
  if (image && imagePath !== undefined && /\s/.test(imagePath)) reader.fail(image, `'${imagePath}' is not an image reference (no spaces: e.g. registry.example.com/rlink:0.9)`);
  else if (imagePath) k.imagePath = imagePath;
  const pull = section.get('image_pull_policy');
  const policy = pull && reader.string(pull);
  if (pull && policy !== undefined && !(IMAGE_PULL_POLICIES as readonly string[]).includes(policy)) reader.fail(pull, `must be one of ${IMAGE_PULL_POLICIES.join(', ')}, got '${policy}'`);
  else if (policy) k.imagePullPolicy = policy as KubernetesSection['imagePullPolicy'];
  const int = (name: string, min: number, max: number) => { const e = section.get(name); return e ? reader.integer(e, min, max) : undefined; };
  const jobVCores = int('job_v_cores', 1, 256);
  const jobMemoryMb = int('job_memory_mb', 128, 1 << 20);
  const taskVCores = int('task_v_cores', 1, 256);
  const taskMemoryMb = int('task_memory_mb', 128, 1 << 20);
  const numTaskManagers = int('num_task_managers', 1, 10_000);
  if (jobVCores !== undefined) k.jobVCores = jobVCores;
  if (jobMemoryMb !== undefined) k.jobMemoryMb = jobMemoryMb;
  if (taskVCores !== undefined) k.taskVCores = taskVCores;
  if (taskMemoryMb !== undefined) k.taskMemoryMb = taskMemoryMb;
  if (numTaskManagers !== undefined) k.numTaskManagers = numTaskManagers;
  return k;
}
