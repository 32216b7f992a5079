/** Parsers for `relayctl show summary|hosts|relays` and `show sessions` (relayd.md §4.2). */

/** One object line: `%-4u\t%-8s\t%-24s\t%-7s\t%s` = id, type, name, availability, status. */
export interface RelayctlEntry {
  /** `% of successful checks` for hosts that have been checked. */
  availability?: number
  /** `show hosts` detail of a checked host: `total: UP/ALL checks[, N retries][, error: TEXT]`. */
  checks?: {error?: string; retries?: number; total: number; up: number}
  id: number
  name: string
  /** `host … parent N`: the host this one follows. */
  parent?: number
  status: string
  type: 'host' | 'redirect' | 'relay' | 'router' | 'table'
}

const TYPES = new Set(['host', 'redirect', 'relay', 'router', 'table'])

export function parseRelayctlTable(text: string): RelayctlEntry[] {
  const entries: RelayctlEntry[] = []
  for (const raw of text.split('\n')) {
    if (raw.trim() === '' || /^Id\s*\tType/.test(raw)) continue
    const fields = raw.split('\t').map((f) => f.trim())
    if (/^\d+$/.test(fields[0]) && TYPES.has(fields[1])) {
      const [id, type, nameField, availability, ...status] = fields
      const parent = / parent (\d+)$/.exec(nameField)
      entries.push({
        ...(availability ? {availability: Number.parseFloat(availability)} : {}),
        id: Number(id),
        name: parent ? nameField.slice(0, parent.index) : nameField,
        ...(parent ? {parent: Number(parent[1])} : {}),
        status: status.join(' ').trim(),
        type: type as RelayctlEntry['type'],
      })
      continue
    }

    const detail = /total: (\d+)\/(\d+) checks(?:, (\d+) retries)?(?:, error: (.*))?$/.exec(raw)
    const last = entries.at(-1)
    if (detail && last?.type === 'host') {
      last.checks = {total: Number(detail[2]), up: Number(detail[1]), ...(detail[3] ? {retries: Number(detail[3])} : {}), ...(detail[4] ? {error: detail[4].trim()} : {})}
    }
  }

  return entries
}

/** One relayed connection: `session PEER:ID IN -> OUT\tRUNNING|DONE` plus its `age …, relay ID, pid PID` line. */
export interface RelaydSession {
  age?: string
  from: string
  id: string
  relay?: number
  running: boolean
  to: string
}

export function parseRelaydSessions(text: string): RelaydSession[] {
  const sessions: RelaydSession[] = []
  for (const raw of text.split('\n')) {
    const head = /^session (\S+) (\S+) -> (\S+)\s+(RUNNING|DONE)/.exec(raw.trim())
    if (head) {
      sessions.push({from: head[2], id: head[1], running: head[4] === 'RUNNING', to: head[3]})
      continue
    }

    const detail = /age ([\d:]+), idle [\d:]+, relay (\d+)/.exec(raw)
    const last = sessions.at(-1)
    if (detail && last) Object.assign(last, {age: detail[1], relay: Number(detail[2])})
  }

  return sessions
}
