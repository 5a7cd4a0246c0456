// Typed errors. Library code throws these; the one top-level handler in
// src/cli/main.ts prints `tsrun: <message>` and exits with `exitCode`.

export class TsrunError extends Error {
  /** Process exit code for this error. */
  readonly exitCode: number = 1;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad command-line usage (unknown flag, missing argument). */
export class UsageError extends TsrunError {}

/** config.json (or another input file) is invalid. `problems` are whole lines. */
export class ConfigError extends TsrunError {
  /** At most this many problems are in the message (a hostile config can have thousands). */
  static readonly MAX_SHOWN = 20;
  constructor(readonly problems: string[]) {
    const max = ConfigError.MAX_SHOWN;
    const shown = problems.length > max ? [...problems.slice(0, max), `... and ${problems.length - max} more problems`] : problems;
    super(shown.join('\n'));
  }
}

/** The container id is malformed. */
export class InvalidIdError extends TsrunError {}

export class NotFoundError extends TsrunError {
  constructor(id: string) {
    // "does not exist" is what podman and containerd match on.
    super(`container "${id}" does not exist`);
  }
}

export class AlreadyExistsError extends TsrunError {
  constructor(readonly id: string) {
    super(`container "${id}" already exists`);
  }
}

/** A directory under --root that tsrun did not make (no state.json, other files in it): left alone. */
export class NotAContainerError extends TsrunError {
  constructor(
    readonly id: string,
    readonly dir: string,
  ) {
    super(`"${dir}" is not a container tsrun made (no state.json; it holds other files): tsrun leaves it alone; remove it by hand if it is not needed`);
  }
}

/** The container is not in a status the operation accepts. */
export class StateError extends TsrunError {}

/** A failure reported by the shim, or a syscall made from TypeScript. */
export class SystemError extends TsrunError {
  constructor(
    message: string,
    readonly errno = 0,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The host cannot do what the config asks (missing kernel feature, no systemd, ...). */
export class UnsupportedError extends TsrunError {}


/** err with another message (same class and exit code). */
export function withMessage(err: unknown, msg: string): unknown {
  if (err instanceof TsrunError) {
    const copy = Object.create(Object.getPrototypeOf(err)) as TsrunError;
    Object.assign(copy, err);
    Object.defineProperty(copy, 'message', { value: msg });
    return copy;
  }
  return new TsrunError(msg, { cause: err });
}

/** Errors in one message: the first failure and what went wrong while cleaning up after it. */
export function withCleanupErrors(err: unknown, cleanupErrors: unknown[]): unknown {
  if (cleanupErrors.length === 0) return err;
  const extra = cleanupErrors.map((e) => (e instanceof Error ? e.message : String(e)));
  return withMessage(err, `${err instanceof Error ? err.message : String(err)} (cleanup also failed: ${extra.join('; ')})`);
}
