import type {Finished, ProxyChange, Rollback} from '../apply/outcome.js'

/** The first line of apply's and tls deploy's human reports: target, outcome, message. */
export const outcomeLine = (report: Finished<string> & {target: string}) =>
  `${report.target}: ${report.outcome}: ${report.message}`

/** A change to the running proxy, e.g. `reload (master CLI): ok: …` or `swap (runtime API): FAILED: …`. */
export const proxyChangeLine = (step: string, change: ProxyChange) =>
  `  ${step} (${change.method}): ${change.ok ? 'ok' : 'FAILED'}: ${change.detail}`

/** What the rollback put back, and whether that is proven (else what is not back). */
export const rollbackLine = (rollback: Rollback) =>
  `  rollback to ${rollback.restored}: ${rollback.verified ? 'verified' : `FAILED: ${rollback.problems.join('; ')}`}`
