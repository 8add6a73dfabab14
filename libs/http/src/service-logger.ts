import { ConsoleLogger, LogLevel } from '@nestjs/common';
import { activeTraceId } from '@claimchain/observability';
import { currentLogContext } from './log-context';

export type LogFormat = 'json' | 'text';

const LEVELS: LogLevel[] = ['error', 'warn', 'log', 'debug', 'verbose'];

/**
 * `LOG_FORMAT` if set (`json` or `text`), else JSON lines unless stdout is a terminal: a container's log collector
 * gets one parseable object per line, a person at a terminal gets Nest's readable lines.
 */
export function logFormatOf(env: NodeJS.ProcessEnv = process.env, isTTY = Boolean(process.stdout.isTTY)): LogFormat {
  const format = env.LOG_FORMAT?.toLowerCase();
  if (format === 'json' || format === 'text') return format;
  if (format) throw new Error(`LOG_FORMAT must be json or text, not ${env.LOG_FORMAT}`);
  return isTTY ? 'text' : 'json';
}

/**
 * Every service's logger. JSON: one object per line with `level`, `time` (ISO 8601; `timestamp` in epoch ms too),
 * `service`, `context` (the class that logged), `message`, `pid`, for errors `stack`, and the ids of what is being
 * handled where known (`requestId`, `claimId`, `eventId`, `traceId`: the active span's with tracing on; see log-context.ts). Text: Nest's format, in colour only on a terminal
 * (or with FORCE_COLOR, as the launcher sets for its labelled output), never when NO_COLOR is set.
 */
export class ServiceLogger extends ConsoleLogger {
  constructor(
    private readonly service: string,
    level: LogLevel,
    format: LogFormat = logFormatOf(),
    env: NodeJS.ProcessEnv = process.env,
  ) {
    const colour = format === 'text' && !env.NO_COLOR && (Boolean(process.stdout.isTTY) || Boolean(env.FORCE_COLOR));
    super({
      json: format === 'json',
      colors: colour,
      prefix: service,
      logLevels: LEVELS.slice(0, LEVELS.indexOf(level) + 1),
    });
  }

  protected override getJsonLogObject(
    message: unknown,
    options: { context: string; logLevel: LogLevel; writeStreamType?: 'stdout' | 'stderr'; errorStack?: unknown },
  ) {
    const { level, ...entry } = super.getJsonLogObject(message, options);
    // With tracing on, the trace id is the active span's (ADR 20); otherwise the caller's traceparent's, if any.
    const traceId = activeTraceId();
    return {
      level,
      time: new Date(entry.timestamp).toISOString(),
      service: this.service,
      ...currentLogContext(),
      ...(traceId ? { traceId } : {}),
      ...entry,
    };
  }
}
