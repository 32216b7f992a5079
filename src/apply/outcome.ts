import {ExitCode, type ExitCodeName} from '../errors.js'

/**
 * How a run that changes the proxy ended, as `jproxy apply` and `jproxy tls deploy` report it:
 * an outcome from the run's own list, its code from the one exit-code table, what to tell the
 * admin, and how long it took.
 */
export interface Finished<O extends string> {
  durationMs: number
  exitCode: number
  message: string
  outcome: O
}

/** A change to the running proxy (a reload, a swap through its runtime API): how, whether it worked, what happened. */
export interface ProxyChange<M extends string = string> {
  detail: string
  method: M
  ok: boolean
}

/** After a failure past the install: what was put back, and whether it is proven to be back. */
export interface Rollback {
  /** What is not back, or not proven, and why; empty exactly when verified. */
  problems: string[]
  /** What was put back (or tried to be): the last-known-good config, the previous certificate. */
  restored: string
  verified: boolean
}

export type Finish<O extends string, R extends Finished<O>> = (outcome: O, message: string, extra?: Partial<R>) => R

/**
 * The one way a run ends: `finish(outcome, message, extra)` makes the report from `base` (the
 * fields every outcome has), `extra`, the outcome's exit code in `exits` and the time since `started`.
 */
export function finisher<O extends string, R extends Finished<O>>(
  exits: Record<O, ExitCodeName>,
  base: Omit<R, keyof Finished<O>>,
  started: number,
): Finish<O, R> {
  return (outcome, message, extra = {}) =>
    ({
      ...base,
      ...extra,
      durationMs: Math.round(performance.now() - started),
      exitCode: ExitCode[exits[outcome]],
      message,
      outcome,
    }) as R
}
