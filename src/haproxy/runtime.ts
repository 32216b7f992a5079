/** Parsers for what HAProxy's CLIs answer (management guide: `show proc`, `show info`, `show stat`). */

export interface ProcessEntry {
  pid: number
  reloads: number
}

/** `show proc` on the master CLI: the master (with its reload and failed-reload counts) and its workers. */
export interface ProcessList {
  master: ProcessEntry & {failed: number}
  /** Workers of the current generation (reloads 0) first, then older ones still finishing. */
  workers: ProcessEntry[]
}

export function parseShowProc(text: string): ProcessList {
  let master: ProcessList['master'] | undefined
  const workers: ProcessEntry[] = []
  let section = 'master'
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) {
      section = line.slice(2).trim()
      continue
    }

    const match = /^(\d+)\s+(\S+)\s+(\d+)(?:\s+\[failed: (\d+)\])?/.exec(line)
    if (!match) continue
    const entry = {pid: Number(match[1]), reloads: Number(match[3])}
    if (match[2] === 'master') master = {...entry, failed: Number(match[4] ?? 0)}
    else if (match[2] === 'worker' && (section === 'workers' || section === 'old workers')) workers.push(entry)
  }

  if (!master) throw new Error(`not a "show proc" answer: ${text.slice(0, 200)}`)
  workers.sort((a, b) => a.reloads - b.reloads)
  return {master, workers}
}

/** `show info`: `Name: value` lines. */
export function parseShowInfo(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split('\n')
      .map((line) => /^([^:]+):\s*(.*)$/.exec(line))
      .filter((m) => m !== null)
      .map((m) => [m[1], m[2]]),
  )
}

/** One row of `show stat` (CSV with a `# ` header): proxy, server (FRONTEND/BACKEND for the aggregates), status, check. */
export interface StatRow {
  checkStatus: string
  proxy: string
  server: string
  sessions: number
  status: string
}

export function parseShowStat(text: string): StatRow[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '')
  const header = lines.find((l) => l.startsWith('# '))
  if (!header) throw new Error(`not a "show stat" answer: ${text.slice(0, 200)}`)
  const columns = header.slice(2).split(',')
  const at = (name: string) => columns.indexOf(name)
  return lines
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.split(','))
    .map((f) => ({checkStatus: f[at('check_status')] ?? '', proxy: f[at('pxname')], server: f[at('svname')], sessions: Number(f[at('scur')] ?? 0), status: f[at('status')] ?? ''}))
}
