/** Tests of the task_managers loader: hosts, ports, comments, duplicate instances, problems with lines. */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RlinkError } from '../../core/errors';
import { ConfigValidationError, loadTaskManagers, parseTaskManagers, type TaskManagerHost } from './index';

const FILE = '/x/task_managers';
const TEMPLATE = fileURLToPath(new URL('../../task_managers', import.meta.url));

function failure(text: string): ConfigValidationError {
  try {
    parseTaskManagers(text, FILE, 22);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigValidationError);
    return err as ConfigValidationError;
  }
  throw new Error('expected the host list to be rejected');
}

describe('task_managers', () => {
  it('loads the template at the repository root', () => {
    expect(loadTaskManagers(TEMPLATE, 22)).toEqual([
      { host: '10.1.2.1', sshPort: 22, line: 3, instance: 0 },
      { host: '10.1.2.2', sshPort: 22, line: 4, instance: 0 },
      { host: '10.1.2.3', sshPort: 2222, line: 5, instance: 0 },
    ]);
  });

  it('ignores blank lines and comments, also trailing ones, and reads IPv6 in brackets', () => {
    const text = ['# hosts', '', '  tm-1.example.com   # rack 1', 'tm-2:2200', '\t', '[::1]', '[fd00::2]:2222 # v6', 'tm-3 '].join('\n');
    expect(parseTaskManagers(text, FILE, 2022)).toEqual([
      { host: 'tm-1.example.com', sshPort: 2022, line: 3, instance: 0 },
      { host: 'tm-2', sshPort: 2200, line: 4, instance: 0 },
      { host: '::1', sshPort: 2022, line: 6, instance: 0 },
      { host: 'fd00::2', sshPort: 2222, line: 7, instance: 0 },
      { host: 'tm-3', sshPort: 2022, line: 8, instance: 0 },
    ]);
  });

  it('accepts Windows line endings', () => {
    expect(parseTaskManagers('a\r\nb:23\r\n', FILE, 22)).toEqual([
      { host: 'a', sshPort: 22, line: 1, instance: 0 },
      { host: 'b', sshPort: 23, line: 2, instance: 0 },
    ]);
  });

  it('numbers the instances of a host listed more than once', () => {
    const hosts = parseTaskManagers(['10.0.0.1', '10.0.0.2', '10.0.0.1:2222', 'TM', 'tm', '10.0.0.1'].join('\n'), FILE, 22);
    expect(hosts.map((h) => [h.host, h.sshPort, h.line, h.instance])).toEqual([
      ['10.0.0.1', 22, 1, 0],
      ['10.0.0.2', 22, 2, 0],
      ['10.0.0.1', 2222, 3, 1],
      ['TM', 22, 4, 0],
      ['tm', 22, 5, 1],
      ['10.0.0.1', 22, 6, 2],
    ]);
  });

  it('reports a bad port with its line', () => {
    const error = failure(['ok-host', 'tm-1:ssh'].join('\n'));
    expect(error.code).toBe('RLINK_CONFIG');
    expect(error.message).toBe(`${FILE}: 1 problem\n  ${FILE}:2: tm-1:ssh: bad ssh port 'ssh' (expected 1..65535)`);
    expect(error.context).toEqual({ file: FILE, line: 2, key: 'tm-1:ssh' });
  });

  it('reports every problem of the file at once', () => {
    const error = failure(
      ['# cluster', 'tm 1', 'tm-2:0', 'tm-3:65536', 'good', '::1', '[nope]:22', 'tm-4:', 'bad_host!', '999.1.1.1', '[::1]:x # trailing'].join('\n'),
    );
    expect(error.message.split('\n')).toEqual([
      `${FILE}: 9 problems`,
      `  ${FILE}:2: tm 1: a host cannot contain spaces (expected host[:ssh_port], IPv6 as [::1]:2222)`,
      `  ${FILE}:3: tm-2:0: bad ssh port '0' (expected 1..65535)`,
      `  ${FILE}:4: tm-3:65536: bad ssh port '65536' (expected 1..65535)`,
      `  ${FILE}:6: ::1: an IPv6 address must be written in brackets, e.g. [::1] or [::1]:2222`,
      `  ${FILE}:7: [nope]:22: 'nope' is not an IPv6 address`,
      `  ${FILE}:8: tm-4:: bad ssh port '' (expected 1..65535)`,
      `  ${FILE}:9: bad_host!: 'bad_host!' is not a valid host name (expected host[:ssh_port], IPv6 as [::1]:2222)`,
      `  ${FILE}:10: 999.1.1.1: '999.1.1.1' is not a valid IPv4 address (expected host[:ssh_port], IPv6 as [::1]:2222)`,
      `  ${FILE}:11: [::1]:x: bad ssh port 'x' (expected 1..65535)`,
    ]);
  });

  it('rejects a list without hosts', () => {
    for (const text of ['', '\n\n', '# nothing here\n   # still nothing\n']) {
      expect(failure(text).message).toBe(`${FILE}: 1 problem\n  ${FILE}:1: task_managers: no task manager hosts (write one host[:ssh_port] per line)`);
    }
  });

  it('names a file that cannot be read', () => {
    const missing = '/nonexistent/rlink/task_managers';
    expect(() => loadTaskManagers(missing, 22)).toThrow(RlinkError);
    expect(() => loadTaskManagers(missing, 22)).toThrow(new RegExp(`^${missing}: cannot read: ENOENT`));
  });

  it('round-trips generated host lists with ports, comments and blank lines', () => {
    const hostArb = fc.oneof(fc.domain(), fc.ipV4(), fc.ipV6());
    const entryArb = fc.record({
      host: hostArb,
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      comment: fc.option(fc.string({ maxLength: 20 }).filter((s) => !/[\r\n]/.test(s)), { nil: undefined }),
      blankLinesBefore: fc.nat({ max: 2 }),
    });
    fc.assert(
      fc.property(fc.array(entryArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 65535 }), (entries, defaultPort) => {
        const lines: string[] = [];
        const expected: TaskManagerHost[] = [];
        const listings = new Map<string, number>();
        for (const entry of entries) {
          for (let i = 0; i < entry.blankLinesBefore; i++) lines.push(i % 2 === 0 ? '' : '# spacer');
          const written = entry.host.includes(':') ? `[${entry.host}]` : entry.host;
          const withPort = entry.port === undefined ? written : `${written}:${entry.port}`;
          lines.push(entry.comment === undefined ? withPort : `${withPort} #${entry.comment}`);
          const instance = listings.get(entry.host.toLowerCase()) ?? 0;
          listings.set(entry.host.toLowerCase(), instance + 1);
          expected.push({ host: entry.host, sshPort: entry.port ?? defaultPort, line: lines.length, instance });
        }
        expect(parseTaskManagers(lines.join('\n'), FILE, defaultPort)).toEqual(expected);
      }),
      { numRuns: 200 },
    );
  });
});
