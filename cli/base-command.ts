import { Command, Flags, Errors } from '@oclif/core';
import { RlinkError, errorMessage } from '../core/errors';

/**
 * Every rlink command: `--json` for scripts, `--log-level`, and failures as one line naming the cause
 * (`rlink run: app jobs/x.ts failed to build: …`) with a non-zero exit code.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'log-level': Flags.string({ description: 'Level of the logs written to stderr (default: $RLINK_LOG_LEVEL, else warn; info for the daemons).', options: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], helpGroup: 'GLOBAL' }),
  };

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const command = `rlink ${(this.id ?? '').replace(/:/g, ' ')}`.trim();
    const exit = err instanceof RlinkError ? 1 : err.oclif?.exit ?? err.exitCode ?? 1;
    const code = err instanceof RlinkError ? err.code : 'RLINK_CLI';
    let message = errorMessage(err);
    if (err instanceof Errors.CLIError && /Nonexistent flag|Unexpected argument|Missing (\d+ )?required/.test(message)) message = message.replace(/\s*See more help with --help.*/s, '');
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({ error: { code, message } })}\n`);
    } else {
      process.stderr.write(`${command}: ${message}\n`);
    }
    this.exit(exit);
  }
}
