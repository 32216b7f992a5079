import {JproxyError} from '../errors.js'
import {formatDiagnostic, lintRelaydConf} from '../relayd/lint.js'
import type {Diagnostic} from '../relayd/model.js'
import type {ReadFile} from '../relayd/parser.js'
import type {TargetName} from './targets.js'

/** jproxy's own checker per target: relayd exists only on OpenBSD; HAProxy has `haproxy -c`, which apply runs. */
const LINTERS: Partial<Record<TargetName, (text: string, file: string, readFile?: ReadFile) => Diagnostic[]>> = {
  relayd: (text, file, readFile) => lintRelaydConf(text, {file, readFile}),
}

/**
 * Lints what a renderer produced before anyone writes it. Errors throw (checkFailed) with every
 * finding; warnings come back for the caller to show. `readFile` serves relayd `include`s
 * (the operator's snippet files, read with the render context). A valid inventory renders clean, so an
 * error here is a renderer bug, and refusing beats installing a config the daemon rejects.
 */
export function checkRendered(target: TargetName, text: string, file: string, readFile?: ReadFile): Diagnostic[] {
  const findings = LINTERS[target]?.(text, file, readFile) ?? []
  const errors = findings.filter((d) => d.severity === 'error')
  if (errors.length > 0) {
    throw new JproxyError('checkFailed', `the rendered ${target} config fails the linter, so it is not written (please report this jproxy bug):\n${errors.map((d) => formatDiagnostic(d)).join('\n')}`, {findings})
  }

  return findings
}
