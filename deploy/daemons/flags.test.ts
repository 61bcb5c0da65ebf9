/** The daemons' flag tables: the runtime's parser accepts what the CLI accepts, and words bad input as oclif does. */
import { describe, expect, it } from 'vitest';
import { daemonHelp, parseDaemonArgv } from './flags';
import { JOBMANAGER_FLAGS } from './jobmanager';
import { TASKMANAGER_FLAGS } from './taskmanager';

describe('parseDaemonArgv', () => {
  it('applies the defaults, reads --flag value and --flag=value, repeats multiple flags', () => {
    const p = parseDaemonArgv(JOBMANAGER_FLAGS, ['--port=0', '--bind', '0.0.0.0', '--property', 'a=1', '--property=b=2', '--json', '--log-level', 'warn']);
    expect(p.json).toBe(true);
    expect(p.help).toBe(false);
    expect(p.flags).toMatchObject({ port: 0, bind: '0.0.0.0', property: ['a=1', 'b=2'], 'heartbeat-timeout': '10s', 'max-upload-mb': 64, 'lease-timeout': '6s', 'log-level': 'warn' });
    expect(p.flags['token-file']).toBeUndefined();
  });

  it('refuses unknown flags, positional arguments, non-integers and out-of-range values in oclif\'s words', () => {
    expect(() => parseDaemonArgv(JOBMANAGER_FLAGS, ['--bogus'])).toThrow('Nonexistent flag: --bogus');
    expect(() => parseDaemonArgv(JOBMANAGER_FLAGS, ['extra'])).toThrow('Unexpected argument: extra');
    expect(() => parseDaemonArgv(JOBMANAGER_FLAGS, ['--port', 'abc'])).toThrow('Parsing --port: Expected an integer but received: abc');
    expect(() => parseDaemonArgv(JOBMANAGER_FLAGS, ['--port', '70000'])).toThrow('Parsing --port: Expected an integer less than or equal to 65535 but received: 70000');
    expect(() => parseDaemonArgv(TASKMANAGER_FLAGS, ['--slots', '0'])).toThrow('Parsing --slots: Expected an integer greater than or equal to 1 but received: 0');
    expect(() => parseDaemonArgv(TASKMANAGER_FLAGS, ['--log-level', 'loud'])).toThrow('Expected --log-level=loud to be one of: trace, debug, info, warn, error, fatal, silent');
    expect(() => parseDaemonArgv(TASKMANAGER_FLAGS, ['--jm'])).toThrow(/--jm/);
  });

  it('knows -h and --help, and lists every visible flag with its default', () => {
    expect(parseDaemonArgv(TASKMANAGER_FLAGS, ['-h']).help).toBe(true);
    const help = daemonHelp('node rlink.mjs taskmanager start', 'Start a task manager.', TASKMANAGER_FLAGS);
    expect(help).toContain('--kubernetes-service=<value>');
    expect(help).toContain('--bind=<value>');
    expect(help).toContain('[default: 127.0.0.1]');
    expect(help).not.toContain('--heartbeat-interval'); // hidden
  });
});
