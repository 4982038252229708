// Errors a user can meet. Each carries a stable `code` and says what to do next.

/** Bad usage or configuration: the CLI exits with 2 and prints `message` on one line. */
export class ConfigError extends Error {
  readonly code: string = 'ERR_CONFIG';
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly field: string | undefined;

  constructor(message: string, where: { file?: string; line?: number; field?: string } = {}) {
    const place = [
      where.file !== undefined
        ? where.line !== undefined
          ? `${where.file}:${where.line}`
          : where.file
        : undefined,
      where.field !== undefined ? `field ${where.field}` : undefined,
    ]
      .filter((p) => p !== undefined)
      .join(', ');
    super(place ? `${place}: ${message}` : message);
    this.name = 'ConfigError';
    this.file = where.file;
    this.line = where.line;
    this.field = where.field;
  }
}

/** A record or input that cannot be processed safely; it is quarantined, never passed through (R6). */
export class ProcessingError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'ProcessingError';
    this.code = code;
  }
}
