/** The slice of a pino logger ingest uses (pino.Logger and FastifyBaseLogger both fit). */
export interface Log {
  child(bindings: Record<string, unknown>): Log;
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A logger that drops everything (tests, benches). */
export const silentLog: Log = {
  child: () => silentLog,
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
};
