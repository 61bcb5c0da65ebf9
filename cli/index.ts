/**
 * The commands of the `rlink` binary (oclif's explicit discovery: this module is bundled into
 * dist/cli.js and package.json points oclif at its COMMANDS export).
 */
import Run from './commands/run';

export const COMMANDS = {
  run: Run,
};
