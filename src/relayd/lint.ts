import {checkJitsiRules, type JitsiRuleOptions} from './jitsi-rules.js'
import type {Diagnostic} from './model.js'
import {type ReadFile, RelaydParser} from './parser.js'
import {checkLoaded} from './semantic.js'

export type {Diagnostic} from './model.js'

/** Options of one lint run; file access is injected so the linter itself does no I/O. */
export interface LintOptions extends JitsiRuleOptions {
  /** Name used in messages (relayd prints the path as given). */
  file: string
  /** Reads `include`d files. */
  readFile?: ReadFile
  /** Jitsi rules become errors. */
  strict?: boolean
}

/**
 * Lints relayd.conf text: relayd's grammar and load-time checks with relayd's own wording, the
 * run-time limits relayd -n misses, and the Jitsi rules (warnings unless `strict`). Sorted by
 * file and line; line 0 marks a finding about the whole file, as relayd prints those unplaced.
 */
export function lintRelaydConf(text: string, options: LintOptions): Diagnostic[] {
  const parser = new RelaydParser(options.file, text, options.readFile)
  parser.parse()
  const jitsi = checkJitsiRules(parser.config, options).map((d) => (options.strict ? {...d, severity: 'error' as const} : d))
  const all = [...parser.diagnostics, ...checkLoaded(parser.config, options.file), ...jitsi]
  // relayd prints load-time findings (line 0) after everything placed in the file.
  const rank = (d: Diagnostic) => (d.file === options.file ? 0 : 1)
  const placed = (d: Diagnostic) => (d.line === 0 ? Number.MAX_SAFE_INTEGER : d.line)
  return all
    .map((d, order) => ({d, order}))
    .sort((a, b) => rank(a.d) - rank(b.d) || a.d.file.localeCompare(b.d.file) || placed(a.d) - placed(b.d) || a.order - b.order)
    .map(({d}) => d)
}

/** `FILE:LINE: message`, relayd's format; warnings say so, and file-wide findings have no line. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file
  return `${where}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`
}
