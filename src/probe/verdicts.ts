import type {Role} from './model.js'

/**
 * The watcher's damped verdicts in a form a POSIX shell reads without starting anything: relayd's
 * check script reads the first line with `read` and finds its host with one `grep -x`.
 *
 *   jproxy-probe-state 1 WRITTEN EXPIRES     (epoch seconds; after EXPIRES the file is stale)
 *   ROLE ADDRESS up|down|unknown             (one line per role and address)
 */
export const VERDICTS_MAGIC = 'jproxy-probe-state'
const VERSION = '1'

export type Verdict = 'down' | 'unknown' | 'up'

export interface HostVerdict {
  address: string
  role: Role
  verdict: Verdict
}

export interface Verdicts {
  expires: Date
  hosts: HostVerdict[]
  written: Date
}

/** The plain-text file beside the JSON state: `probe-state.json` → `probe-state.txt`. */
export function verdictsFile(stateFile: string): string {
  return `${stateFile.replace(/\.json$/, '')}.txt`
}

/**
 * One verdict per role and address (what a relayd table host is): up only when every backend of
 * that role there is up, down when one is down, else unknown (never probed, or cut by a deadline).
 */
export function hostVerdicts(backends: Array<{address: string; role: Role; state: Verdict}>): HostVerdict[] {
  const byHost = new Map<string, HostVerdict>()
  for (const backend of backends) {
    const address = backend.address.toLowerCase()
    const key = `${backend.role} ${address}`
    const seen = byHost.get(key)
    if (!seen) byHost.set(key, {address, role: backend.role, verdict: backend.state})
    else if (seen.verdict !== 'down' && backend.state !== 'up') seen.verdict = backend.state
  }

  return [...byHost.values()]
}

export function formatVerdicts(verdicts: Verdicts): string {
  const seconds = (date: Date) => Math.floor(date.getTime() / 1000)
  const lines = verdicts.hosts.map((h) => `${h.role} ${h.address} ${h.verdict}`)
  return `${[`${VERDICTS_MAGIC} ${VERSION} ${seconds(verdicts.written)} ${seconds(verdicts.expires)}`, ...lines].join('\n')}\n`
}

/** The file's contents, or undefined when it is not a verdicts file of this version. */
export function parseVerdicts(text: string): undefined | Verdicts {
  const [head, ...lines] = text.split('\n')
  const header = /^(\S+) (\S+) (\d+) (\d+)$/.exec(head)
  if (!header || header[1] !== VERDICTS_MAGIC || header[2] !== VERSION) return undefined
  const hosts = lines.flatMap((line): HostVerdict[] => {
    const [role, address, verdict] = line.split(' ')
    return verdict === 'up' || verdict === 'down' || verdict === 'unknown' ? [{address, role: role as Role, verdict}] : []
  })
  return {expires: new Date(Number(header[4]) * 1000), hosts, written: new Date(Number(header[3]) * 1000)}
}
