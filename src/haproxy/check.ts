import type {CommandRunner} from '../system/command.js'

/** One message of a native checker, placed where it can be. */
export interface CheckMessage {
  file?: string
  level: 'alert' | 'notice' | 'warning'
  line?: number
  message: string
}

export interface CheckVerdict {
  command: string[]
  exitCode: number
  messages: CheckMessage[]
  ok: boolean
}

/** `[ALERT]    (pid) : config : parsing [file:line] : text` and the shorter forms HAProxy prints. */
const MESSAGE = /^\[(ALERT|WARNING|NOTICE)\]\s+(?:\(\d+\)\s+)?:\s+(.*)$/
const PLACED = /(?:parsing )?\[([^\]:]+):(\d+)\]\s*:?\s*(.*)$/

/**
 * Warnings no operator can act on, dropped so they do not come back on every run. HAProxy loads
 * the server-state file jproxy saved (`show servers state`) and, for a server without an agent
 * check, warns that the agent columns were not applied; the health and admin states (drain,
 * maint) that the file exists for are applied all the same.
 */
const HARMLESS = [/server-state partially applied for server '[^']*', agent checks are not enabled on this server/]

/** Splits HAProxy's checker output into messages with level, file and line, without the harmless warnings. */
export function parseHaproxyCheck(output: string): CheckMessage[] {
  const messages: CheckMessage[] = []
  for (const line of output.split('\n')) {
    const match = MESSAGE.exec(line.trim())
    if (!match) continue
    if (match[1] === 'WARNING' && HARMLESS.some((harmless) => harmless.test(match[2]))) continue
    const level = match[1].toLowerCase() as CheckMessage['level']
    const text = match[2].replace(/^config\s*:\s*/, '')
    const placed = PLACED.exec(text)
    messages.push(placed ? {file: placed[1], level, line: Number(placed[2]), message: `${text.slice(0, placed.index).replace(/[\s:]+$/, '')}${text.slice(0, placed.index).trim() ? ': ' : ''}${placed[3]}`.trim()} : {level, message: text})
  }

  return messages
}

/**
 * Runs the target's checker (argv with `$FILE` replaced by `file`; default `haproxy -c -f
 * $FILE`). Exit 0 is valid: HAProxy's own status is the verdict, and exit 2 ("will not start, no
 * listener") fails like an error. A missing program fails too: an unchecked config is never installed.
 */
export async function runChecker(argv: readonly string[], file: string, run: CommandRunner, timeoutMs = 60_000): Promise<CheckVerdict> {
  const command = argv.map((word) => word.replaceAll('$FILE', file))
  const result = await run(command, {timeoutMs})
  const messages = parseHaproxyCheck(`${result.stdout}\n${result.stderr}`)
  if (result.code !== 0 && !messages.some((m) => m.level === 'alert')) {
    const said = `${result.stderr}${result.stdout}`.trim().split('\n').slice(-3).join(' / ')
    messages.push({level: 'alert', message: `${command[0]} exited ${result.code}${said ? `: ${said}` : ''}`})
  }

  return {command, exitCode: result.code, messages, ok: result.code === 0}
}
