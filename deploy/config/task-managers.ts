/**
 * Loader of the `task_managers` file: one `host[:ssh_port]` per line (IPv6 as `[::1]:2222`), `#`
 * comments and blank lines ignored. A host listed twice runs two task managers, numbered by
 * `instance`. All problems of the file are reported together, each with its line.
 */
import { isIPv6 } from 'node:net';
import { resolve } from 'node:path';
import { ProblemList, readConfigFile } from '../../core/config/yaml-reader';
import { hostProblem, parsePort } from './addresses';

export interface TaskManagerHost {
  /** Host name or IP literal (IPv6 without brackets). */
  host: string;
  sshPort: number;
  /** 1-based line in the file. */
  line: number;
  /** 0 for the first listing of the host, 1 for its second, ... */
  instance: number;
}

/** Reads and validates a `task_managers` file; throws one RLINK_CONFIG error listing every problem. */
export function loadTaskManagers(file: string, defaultSshPort: number): TaskManagerHost[] {
  const path = resolve(file);
  return parseTaskManagers(readConfigFile(path), path, defaultSshPort);
}

/** Validates the text of a `task_managers` file; `file` names it in messages (made absolute). */
export function parseTaskManagers(text: string, file: string, defaultSshPort: number): TaskManagerHost[] {
  const problems = new ProblemList(resolve(file));
  const hosts: TaskManagerHost[] = [];
  const listings = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const entry = stripComment(raw).trim();
    if (entry === '') return;
    const parsed = parseHostEntry(entry, defaultSshPort);
    if ('problem' in parsed) {
      problems.add(line, entry, parsed.problem);
      return;
    }
    const identity = parsed.host.toLowerCase();
    const instance = listings.get(identity) ?? 0;
    listings.set(identity, instance + 1);
    hosts.push({ host: parsed.host, sshPort: parsed.sshPort, line, instance });
  });
  if (hosts.length === 0 && problems.count === 0) {
    problems.add(1, 'task_managers', 'no task manager hosts (write one host[:ssh_port] per line)');
  }
  problems.throwIfAny();
  return hosts;
}

function stripComment(line: string): string {
  const hash = line.indexOf('#');
  return hash === -1 ? line : line.slice(0, hash);
}

/** Parses one `host`, `host:port`, `[ipv6]` or `[ipv6]:port` entry. */
function parseHostEntry(entry: string, defaultSshPort: number): { host: string; sshPort: number } | { problem: string } {
  const expected = '(expected host[:ssh_port], IPv6 as [::1]:2222)';
  if (/\s/.test(entry)) return { problem: `a host cannot contain spaces ${expected}` };
  let host: string;
  let portText: string | undefined;
  if (entry.startsWith('[')) {
    const match = /^\[([^\]]*)\](?::(.*))?$/.exec(entry);
    if (!match) return { problem: `cannot read an IPv6 host and port ${expected}` };
    host = match[1] ?? '';
    portText = match[2];
    if (!isIPv6(host)) return { problem: `'${host}' is not an IPv6 address` };
  } else {
    const colons = entry.split(':').length - 1;
    if (colons > 1) return { problem: `an IPv6 address must be written in brackets, e.g. [${isIPv6(entry) ? entry : '::1'}] or [::1]:2222` };
    const [name = '', port] = entry.split(':');
    host = name;
    portText = port;
    const badHost = hostProblem(host);
    if (badHost) return { problem: `${badHost} ${expected}` };
  }
  if (portText === undefined) return { host, sshPort: defaultSshPort };
  const sshPort = parsePort(portText);
  if (sshPort === undefined) return { problem: `bad ssh port '${portText}' (expected 1..65535)` };
  return { host, sshPort };
}
