/** A minimal structured logger. Agora logs to stderr so stdout stays free for protocol and `--json`. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
  /** A logger for a sub-component, e.g. `logger.child('http')`. */
  child(component: string): Logger
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent'
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

export interface ConsoleLoggerOptions {
  level?: LogLevel | undefined
  component?: string | undefined
  /** Where lines go; stderr by default. */
  write?: ((line: string) => void) | undefined
}

/**
 * A logger writing one line per event to stderr: `level component message {fields}`.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: 'info', component: 'weather' })
 * log.info('listening', { port: 3000 })
 * ```
 */
export function createLogger(options: ConsoleLoggerOptions = {}): Logger {
  const level = options.level ?? ((process.env.AGORA_LOG_LEVEL as LogLevel | undefined) || 'info')
  const threshold = ORDER[level] ?? ORDER.info
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`))
  const component = options.component ?? 'agora'
  const emit = (lvl: Exclude<LogLevel, 'silent'>, message: string, fields?: Record<string, unknown>) => {
    if (ORDER[lvl] < threshold) return
    const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : ''
    write(`${lvl.padEnd(5)} ${component} ${message}${extra}`)
  }
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (sub) => createLogger({ level, write, component: `${component}:${sub}` }),
  }
}

/** A logger that drops everything (tests, benchmarks). */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
}
