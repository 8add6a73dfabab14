/**
 * The command line: parse argv, run one command, and report it twice — a human line on stderr and exactly one JSON
 * line on stdout — with an exit status a script can rely on (see ../README.md). No process globals here, so specs
 * run it in-process; main.ts binds it to the real process.
 */
import { parseArgs } from 'node:util';
import { auditCommand } from './audit.command';
import { readVerifierKey } from './cli-input.reader';
import { CommandResult } from './command.result';
import { consistencyCommand } from './consistency.command';
import { receiptCommand } from './receipt.command';
import { EXIT_INTERNAL, EXIT_VERIFIED, ExitCode, exitCodeOf, VerifierError } from './verifier.errors';

export interface CliIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
}

export const USAGE = `usage:
  claimchain-verify receipt <file> --key <vkey|@file> [--origin <name>]
                            [--attestation <file> --provider-key <jwk|@file>]
  claimchain-verify audit --url <log base url> --key <vkey|@file> [--old <checkpoint file>]...
                          [--checkpoints <directory of *.checkpoint files>]... [--save <file>]
  claimchain-verify consistency --url <log base url> --key <vkey|@file> --old <checkpoint file> [--save <file>]
options:
  --key      the log's note verifier key <name>+<keyid>+<base64>, or @file holding it (never taken from the input)
  --origin   the log's origin line (default: the key's name)
  --attestation   the provider's signed statement, or the signed confirmation it posted (receipt)
  --provider-key  the provider's Ed25519 public JWK, or @file holding it (receipt, with --attestation)
  --timeout  seconds to wait for each answer from the log (default 30)
exit status: 0 verified, 1 verification failed, 2 usage or input error, 3 log unreachable, 4 verifier bug
`;

const COMMANDS = ['receipt', 'audit', 'consistency'] as const;
type Command = (typeof COMMANDS)[number];

const OPTIONS = {
  key: { type: 'string' },
  url: { type: 'string' },
  old: { type: 'string', multiple: true },
  checkpoints: { type: 'string', multiple: true },
  save: { type: 'string' },
  origin: { type: 'string' },
  attestation: { type: 'string' },
  'provider-key': { type: 'string' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;
type OptionName = keyof typeof OPTIONS;

const ALLOWED: Record<Command, readonly OptionName[]> = {
  receipt: ['key', 'origin', 'attestation', 'provider-key'],
  audit: ['key', 'url', 'old', 'checkpoints', 'save', 'origin', 'timeout'],
  consistency: ['key', 'url', 'old', 'save', 'origin', 'timeout'],
};

const RESULT_WORDS = { 0: 'verified', 1: 'failed', 2: 'invalid-input', 3: 'unreachable', 4: 'internal-error' } as const;

export async function runCli(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  let command: string | undefined;
  try {
    const { values, positionals } = parse(argv);
    command = positionals[0];
    if (values.help || command === 'help') {
      io.stdout.write(USAGE);
      return EXIT_VERIFIED;
    }
    const result = await dispatch(positionals, values);
    for (const warning of result.warnings) io.stderr.write(`warning: ${warning}\n`);
    io.stderr.write(`verified: ${result.summary}\n`);
    writeLine(io, { result: RESULT_WORDS[EXIT_VERIFIED], command, ...result.details, warnings: result.warnings });
    return EXIT_VERIFIED;
  } catch (err) {
    if (!(err instanceof VerifierError)) {
      io.stderr.write(`internal error (a bug in the verifier, not a finding about the log): ${describe(err)}\n`);
      writeLine(io, { result: RESULT_WORDS[EXIT_INTERNAL], command, message: describe(err) });
      return EXIT_INTERNAL;
    }
    const exit = exitCodeOf(err.code);
    const label = exit === 1 ? 'FAILED' : exit === 3 ? 'unreachable' : 'error';
    io.stderr.write(`${label}: ${err.message}\n`);
    if (err.code === 'VERIFIER.USAGE') io.stderr.write(USAGE);
    writeLine(io, { result: RESULT_WORDS[exit], command, code: err.code, message: err.message, ...err.at });
    return exit;
  }
}

type Values = ReturnType<typeof parse>['values'];

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs throws TypeErrors with ERR_PARSE_ARGS_* codes for unknown options and missing values.
    throw new VerifierError('VERIFIER.USAGE', (err as Error).message);
  }
}

async function dispatch(positionals: string[], values: Values): Promise<CommandResult> {
  const [command, ...args] = positionals;
  if (command === undefined) throw new VerifierError('VERIFIER.USAGE', 'no command given');
  if (!isCommand(command)) throw new VerifierError('VERIFIER.USAGE', `unknown command ${JSON.stringify(command)}`);
  for (const name of Object.keys(values) as OptionName[]) {
    if (name !== 'help' && !ALLOWED[command].includes(name)) {
      throw new VerifierError('VERIFIER.USAGE', `${command} takes no --${name}`);
    }
  }
  const key = await readVerifierKey(required(values.key, 'key', command));
  const origin = values.origin ?? key.verifier.name;
  const timeoutMs = timeoutOf(values.timeout);
  switch (command) {
    case 'receipt':
      if (args.length !== 1) throw new VerifierError('VERIFIER.USAGE', 'receipt takes exactly one receipt file');
      if ((values.attestation === undefined) !== (values['provider-key'] === undefined)) {
        throw new VerifierError('VERIFIER.USAGE', 'receipt takes --attestation and --provider-key together');
      }
      return receiptCommand({
        file: args[0],
        key,
        origin,
        attestation: values.attestation
          ? { file: values.attestation, providerKey: values['provider-key']! }
          : undefined,
      });
    case 'audit':
      noArguments(command, args);
      return auditCommand({
        url: required(values.url, 'url', command),
        key,
        origin,
        old: values.old ?? [],
        checkpointDirs: values.checkpoints ?? [],
        save: values.save,
        timeoutMs,
      });
    case 'consistency': {
      noArguments(command, args);
      const old = values.old ?? [];
      if (old.length !== 1) throw new VerifierError('VERIFIER.USAGE', 'consistency needs exactly one --old');
      return consistencyCommand({
        url: required(values.url, 'url', command),
        key,
        origin,
        old: old[0],
        save: values.save,
        timeoutMs,
      });
    }
  }
}

function isCommand(name: string): name is Command {
  return (COMMANDS as readonly string[]).includes(name);
}

function required(value: string | undefined, name: OptionName, command: Command): string {
  if (value === undefined || value === '') throw new VerifierError('VERIFIER.USAGE', `${command} needs --${name}`);
  return value;
}

function noArguments(command: Command, args: string[]): void {
  if (args.length > 0)
    throw new VerifierError('VERIFIER.USAGE', `${command} takes no arguments, got ${args.join(' ')}`);
}

function timeoutOf(value: string | undefined): number {
  if (value === undefined) return 30_000;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new VerifierError('VERIFIER.USAGE', `--timeout must be a positive number of seconds, got ${value}`);
  }
  return seconds * 1000;
}

function writeLine(io: CliIo, line: Record<string, unknown>): void {
  io.stdout.write(JSON.stringify(line) + '\n');
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}
