import { ConsoleLogger, type LoggerService } from '@nestjs/common';
import type { Logger as TypeOrmLogger } from 'typeorm';

/** A warning or error a test app logged, and kept because a test expected it. */
export interface LogLine {
  level: 'fatal' | 'error' | 'warn';
  context: string | undefined;
  message: string;
}

/**
 * Lines any suite may provoke without testing them. @nestjs/typeorm warns when a second
 * app in the process registers the default data source name: two instances of an app on
 * one database, the set-up of every two-instance test, are two apps in one test process.
 */
const EXPECTED_EVERYWHERE = [/^A data source with the default name is already registered\./];

/**
 * The logger of every app the helpers in test/support start. Log, debug and verbose
 * lines are dropped (the apps logged warnings and errors only before). A warning or an
 * error prints as Nest prints it, unless a suite said it provokes it (`expect`): those
 * are kept for the test to assert on (`take`), and not printed. One per test file:
 * Jest gives each file its own modules.
 */
export class TestLogs implements LoggerService {
  private readonly expected: RegExp[] = [...EXPECTED_EVERYWHERE];
  private readonly kept: LogLine[] = [];
  private readonly printer = new ConsoleLogger();

  /** Lines matching one of these are expected from here to the end of the file: kept, not printed. */
  expect(...patterns: RegExp[]): void {
    this.expected.push(...patterns);
  }

  /** The kept lines that match, taken out (a later `take` does not see them again). */
  take(pattern: RegExp): LogLine[] {
    const taken = this.kept.filter((line) => pattern.test(line.message));
    for (const line of taken) this.kept.splice(this.kept.indexOf(line), 1);
    return taken;
  }

  log(): void {}
  debug(): void {}
  verbose(): void {}

  warn(message: unknown, ...params: unknown[]): void {
    if (!this.keep('warn', message, params)) this.printer.warn(message, ...params);
  }

  error(message: unknown, ...params: unknown[]): void {
    if (!this.keep('error', message, params)) this.printer.error(message, ...params);
  }

  fatal(message: unknown, ...params: unknown[]): void {
    if (!this.keep('fatal', message, params)) this.printer.fatal(message, ...params);
  }

  private keep(level: LogLine['level'], message: unknown, params: unknown[]): boolean {
    const text = message instanceof Error ? message.message : String(message);
    if (!this.expected.some((pattern) => pattern.test(text))) return false;
    const context = params.at(-1);
    this.kept.push({ level, context: typeof context === 'string' ? context : undefined, message: text });
    return true;
  }
}

export const testLogs = new TestLogs();

/**
 * TypeORM's own log into the test log, as context "TypeORM". Like TypeORM's default
 * logger with `logging` off, only slow queries are logged (as warnings).
 */
export const typeOrmLogs: TypeOrmLogger = {
  logQuery: () => undefined,
  logQueryError: () => undefined,
  logQuerySlow: (time, query) => testLogs.warn(`query is slow (${time} ms): ${query}`, 'TypeORM'),
  logSchemaBuild: () => undefined,
  logMigration: () => undefined,
  log: () => undefined,
};
