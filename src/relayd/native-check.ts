import type {CommandRunner} from '../system/command.js'
import type {Diagnostic} from './model.js'

/** What `relayd -n -f FILE` said about a file. */
export interface NativeVerdict {
  /** The argv that ran. */
  command: string[]
  exitCode: number
  findings: Diagnostic[]
  ok: boolean
}

/** The rule id of findings that come from relayd itself. */
export const NATIVE_RULE = 'relayd -n'

const PLACED = /^(.+?):(\d+): (.*)$/

/**
 * Runs relayd's own check and turns its stderr into findings: `FILE:LINE: message` lines are
 * placed, other lines (load-time checks, "need root privileges") are file-wide. relayd says
 * "configuration OK" and exits 0 only when the whole load succeeded.
 */
export async function relaydNativeCheck(binary: string, file: string, run: CommandRunner): Promise<NativeVerdict> {
  const command = [binary, '-n', '-f', file]
  const result = await run(command, {timeoutMs: 60_000})
  const ok = result.code === 0
  const findings: Diagnostic[] = []
  for (const line of `${result.stderr}\n${result.stdout}`.split('\n').map((l) => l.trim())) {
    if (line === '' || line === 'configuration OK') continue
    const placed = PLACED.exec(line)
    const warning = /^warning: /.test(placed ? placed[3] : line)
    const severity = warning || ok ? 'warning' : 'error'
    findings.push(
      placed
        ? {file: placed[1], line: Number(placed[2]), message: placed[3].replace(/^warning: /, ''), rule: NATIVE_RULE, severity}
        : {file, line: 0, message: line.replace(/^warning: /, ''), rule: NATIVE_RULE, severity},
    )
  }

  if (!ok && !findings.some((f) => f.severity === 'error')) {
    findings.push({file, line: 0, message: `relayd -n exited with ${result.code}`, rule: NATIVE_RULE, severity: 'error'})
  }

  return {command, exitCode: result.code, findings, ok}
}
