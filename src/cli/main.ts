// The command line: dispatch, exit codes (SPEC section 6) and one-line errors.
//   0 ok, 1 findings at or above --fail-on, 2 bad usage or configuration, 3 runtime failure.
import { ConfigError } from '../util/errors.ts';
import { FILTER_OPTIONS, runFilter } from './filter.ts';
import { INSPECT_OPTIONS, runInspect } from './inspect.ts';
import { type Io, processIo } from './io.ts';
import { helpText, type OptionSpec } from './options.ts';

export interface Command {
  usage: string;
  summary: string;
  options: readonly OptionSpec[];
  run(argv: readonly string[], io: Io): Promise<number>;
}

export const COMMANDS: Record<string, Command> = {
  inspect: {
    usage: 'TOKEN|-',
    summary: 'decode and classify a token for an analyst',
    options: INSPECT_OPTIONS,
    run: runInspect,
  },
  filter: {
    usage: '[options] < in > out',
    summary: 'redact stdin to stdout, line by line',
    options: FILTER_OPTIONS,
    run: runFilter,
  },
};

export function registerCommand(name: string, command: Command): void {
  COMMANDS[name] = command;
}

function usage(): string {
  const lines = ['usage: jwt-redactor <command> [options]', '', 'commands:'];
  for (const [name, c] of Object.entries(COMMANDS)) lines.push(`  ${name.padEnd(9)} ${c.summary}`);
  lines.push('', 'jwt-redactor <command> --help lists the options of a command.');
  return lines.join('\n');
}

export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(`${usage()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.stdout.write('jwt-redactor 0.1.0\n');
    return 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    io.stderr.write(`jwt-redactor: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout.write(`${helpText(name, command.usage, command.options)}\n`);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`jwt-redactor ${name}: ${err.message}\n`);
      return 2;
    }
    // Never print an error's input: only its class and message, which our code writes.
    io.stderr.write(
      `jwt-redactor ${name}: runtime failure: ${err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error'}\n`,
    );
    return 3;
  }
}
