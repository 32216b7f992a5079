import {type PeerLink, type PeersSection, parseShowPeers} from '../haproxy/peers.js'
import {socketCommand} from '../haproxy/socket.js'
import {parseShowTable, plainKey, type TableEntry, tableHeader} from '../haproxy/table.js'
import {PEERS_SECTION, ROOM_TABLE} from '../haproxy/vocabulary.js'
import {pollUntil} from '../system/poll.js'

/**
 * The room table across a HAProxy reload. The new worker gets the old worker's stick table only
 * through the local peer: the old worker pushes it while it stops. HAProxy 2.6 pushes nothing
 * while its own start-up resync is unfinished, so a reload then (or while the previous handover
 * is still running) empties the table (haproxy/haproxy#1216; #842, #1078). Hence: before the
 * reload wait until `show peers` says both resyncs are over and every remote peer is connected;
 * after it, wait until the new worker holds the old worker's rooms. Both waits are bounded by
 * apply.reloadTimeout.
 */

const POLL_MS = 100
/** One read of a socket; a read that takes longer counts as "not yet". */
const READ_MS = 2000
/** Keys looked up one by one in the new worker: spread over the whole dump. */
const SAMPLE_SIZE = 64
/** An entry this close to expiring may be gone by the time it is looked for, without any fault. */
const EXPIRY_MARGIN_MS = 1000
/** A CLI line stays well under HAProxy's buffer (tune.bufsize, 16 KiB by default). */
const MAX_LINE = 8000

/** What the gate read before the reload. */
export interface ReloadGate {
  ok: boolean
  /** Remote peers of the room table's peers section at the last read. */
  peers: PeerLink[]
  /** Why a reload now would lose rooms, at the last read; empty when ok. */
  problems: string[]
  reads: number
  /** `show peers`: the resyncs this worker needed at start are over (local: from the old worker, remote: from a peer). */
  resync?: {local: boolean; remote: boolean}
  /** Rooms in the table at the last read. */
  rooms?: number
  /** Why the gate did not apply (the stats socket did not answer): the reload goes ahead as before the gate existed. */
  skipped?: string
  /** What the first read lacked, which the gate then waited for; empty when the reload was safe at once. */
  waitedFor: string[]
  waitedMs: number
}

/**
 * Why a reload now would lose rooms, from the room table's peers section and its room count:
 * a remote peer not connected (it would miss updates and the new worker could not learn from
 * it), or, when there are rooms to hand over, a resync still unfinished. No peers section: HAProxy
 * keeps no table across a reload anyway, and the gate has nothing to protect.
 */
export function reloadHazards(section: PeersSection | undefined, rooms: number): string[] {
  if (!section) return []
  const problems = section.peers.filter((p) => !p.connected).map((p) => `peer ${p.name} (${p.address}) is not connected (last status ${p.status})`)
  if (rooms > 0 && !section.resync.local) problems.push(`the table handover from the previous worker has not finished (show peers: local resync not done; ${rooms} rooms)`)
  else if (rooms > 0 && !section.resync.remote) problems.push(`HAProxy is still in its start-up resync from the remote peers (show peers: remote resync not done; ${rooms} rooms), during which it hands no table over`)
  return problems
}

type GateRead = {error: string} | {peers: PeerLink[]; problems: string[]; resync?: PeersSection['resync']; rooms: number}

async function readGate(statsSocket: string): Promise<GateRead> {
  try {
    const [peers, tables] = await Promise.all([socketCommand(statsSocket, 'show peers', READ_MS), socketCommand(statsSocket, 'show table', READ_MS)])
    const section = parseShowPeers(peers).find((s) => s.name === PEERS_SECTION)
    const rooms = tableHeader(tables, ROOM_TABLE)?.used ?? 0
    return {peers: section?.peers ?? [], problems: reloadHazards(section, rooms), resync: section?.resync, rooms}
  } catch (error) {
    return {error: (error as Error).message}
  }
}

/**
 * Before a reload: reads `show peers` and the room count on the stats socket every 100 ms until a
 * reload would lose nothing, for at most `timeoutMs`. A stats socket that does not answer at
 * first skips the gate (`skipped`): the reload and its verification report that socket anyway.
 */
export async function awaitReloadable(statsSocket: string, timeoutMs: number): Promise<ReloadGate> {
  let reads = 0
  let first: GateRead | undefined
  const polled = await pollUntil(
    () => readGate(statsSocket),
    (read) => {
      reads++
      first ??= read
      return 'error' in read ? reads === 1 : read.problems.length === 0
    },
    {intervalMs: POLL_MS, timeoutMs},
  )
  const last = polled.value
  if ('error' in last && reads === 1) return {ok: true, peers: [], problems: [], reads, skipped: `the stats socket did not answer show peers (${last.error})`, waitedFor: [], waitedMs: polled.waitedMs}
  const waitedFor = first && 'problems' in first ? first.problems : []
  if ('error' in last) return {ok: false, peers: [], problems: [`the stats socket stopped answering (${last.error})`], reads, waitedFor, waitedMs: polled.waitedMs}
  return {ok: polled.done, peers: last.peers, problems: last.problems, reads, resync: last.resync, rooms: last.rooms, waitedFor, waitedMs: polled.waitedMs}
}

/** The old worker's room table just before the reload: what the new worker must then hold. */
export interface TableSnapshot {
  /** Date.now() when the dump was asked for: expiries count from there. */
  at: number
  /** Every entry, when the table could be dumped whole; else only `used` is known. */
  entries?: Pick<TableEntry, 'expiresInMs' | 'key'>[]
  used: number
}

/** Dumps the room table on the stats socket; only its count when the dump does not come whole, undefined when not even that. */
export async function snapshotRooms(statsSocket: string, timeoutMs: number): Promise<TableSnapshot | undefined> {
  const at = Date.now()
  try {
    const block = parseShowTable(await socketCommand(statsSocket, `show table ${ROOM_TABLE}`, timeoutMs)).find((b) => b.name === ROOM_TABLE)
    if (block) return {at, entries: block.entries.map(({expiresInMs, key}) => ({expiresInMs, key})), used: block.used}
  } catch {
    // Too large for one answer, or no table of that name: the count alone, below.
  }

  const header = await socketCommand(statsSocket, 'show table', READ_MS).then((text) => tableHeader(text, ROOM_TABLE)).catch(() => undefined)
  return header && {at, used: header.used}
}

/** After the reload: whether the new worker holds the old worker's rooms. */
export interface TableHandover {
  /** Old rooms that had not expired by the last read. */
  expected: number
  /** Rooms the new worker held at the last read. */
  held: number
  /** Old rooms the new worker lacks: counted key by key when its table could be dumped, else expected − held. */
  lost: number
  /** Sampled keys the new worker lacked at the last read (the first 10 of `missingSampled`). */
  missing: string[]
  missingSampled: number
  ok: boolean
  /** Keys of the old table looked up one by one in the new worker. */
  sampled: number
  waitedMs: number
}

export interface HandoverOptions {
  before: TableSnapshot
  /** The master CLI, which reaches the new worker by pid (`@!PID`); without it, the stats socket (which the new worker serves once the reload is proven). */
  masterSocket?: string
  statsSocket: string
  timeoutMs: number
  worker?: number
}

/** Every `sampleSize`-th entry of a plain key, spread over the whole dump. */
function sample(entries: TableSnapshot['entries'] = []): NonNullable<TableSnapshot['entries']> {
  const plain = entries.filter((e) => plainKey(e.key))
  const step = Math.max(1, plain.length / SAMPLE_SIZE)
  return Array.from({length: Math.min(SAMPLE_SIZE, plain.length)}, (_, i) => plain[Math.floor(i * step)])
}

/** Commands joined by `;` into lines of at most MAX_LINE characters. */
function lines(commands: string[]): string[] {
  const out: string[] = []
  for (const command of commands) {
    if (out.length > 0 && out.at(-1)!.length + command.length + 1 <= MAX_LINE) out[out.length - 1] += `;${command}`
    else out.push(command)
  }

  return out
}

/**
 * Reads the new worker's room table every 100 ms, for at most `timeoutMs`, until it holds at least
 * the old worker's rooms that have not expired since the dump, and every sampled key of them.
 * Only the count is read until it is reached; a handover that did not complete is then counted
 * key by key against the dump.
 */
export async function awaitHandover(options: HandoverOptions): Promise<TableHandover> {
  const {before} = options
  const prefix = options.masterSocket && options.worker ? `@!${options.worker} ` : ''
  const socket = prefix ? options.masterSocket! : options.statsSocket
  const ask = async (commands: string[]) => {
    const answers = []
    for (const line of lines(commands.map((c) => `${prefix}${c}`))) answers.push(await socketCommand(socket, line, READ_MS))
    return answers.join('\n')
  }

  const alive = (e: {expiresInMs: number}) => e.expiresInMs > Date.now() - before.at + EXPIRY_MARGIN_MS
  // Without a dump, rooms expiring meanwhile cannot be told from lost ones: 1 % of them may go.
  const expectedNow = () => (before.entries ? before.entries.filter(alive).length : Math.floor(before.used * 0.99))
  const keys = sample(before.entries)
  type Read = {expected: number; held: number; missing: string[]}
  const read = async (): Promise<Read> => {
    const expected = expectedNow()
    const held = tableHeader(await ask(['show table']), ROOM_TABLE)?.used ?? 0
    if (held < expected) return {expected, held, missing: keys.filter(alive).map((k) => k.key)}
    const wanted = keys.filter(alive)
    const found = new Set(parseShowTable(await ask(wanted.map((k) => `show table ${ROOM_TABLE} key ${k.key}`))).flatMap((b) => b.entries.map((e) => e.key)))
    return {expected, held, missing: wanted.filter((k) => !found.has(k.key)).map((k) => k.key)}
  }

  const polled = await pollUntil(
    () => read().catch((error: Error) => ({error: error.message, expected: expectedNow(), held: 0, missing: keys.map((k) => k.key)})),
    (r) => !('error' in r) && r.held >= r.expected && r.missing.length === 0,
    {intervalMs: POLL_MS, timeoutMs: options.timeoutMs},
  )
  const {expected, held, missing} = polled.value
  const result = {expected, held, missing: missing.slice(0, 10), missingSampled: missing.length, ok: polled.done, sampled: keys.length, waitedMs: polled.waitedMs}
  if (polled.done) return {...result, lost: 0}
  return {...result, lost: await countLost(before, ask, alive).catch(() => Math.max(expected - held, missing.length))}
}

/** The old rooms, not expired, that the new worker's whole table lacks. */
async function countLost(before: TableSnapshot, ask: (commands: string[]) => Promise<string>, alive: (e: {expiresInMs: number}) => boolean): Promise<number> {
  if (!before.entries) throw new Error('no dump to compare with')
  const now = new Set(parseShowTable(await ask([`show table ${ROOM_TABLE}`])).flatMap((b) => b.entries.map((e) => e.key)))
  return before.entries.filter((e) => alive(e) && !now.has(e.key)).length
}

/** The handover's verdict in words, for apply's report. */
export function handoverDetail(handover: TableHandover): string {
  if (handover.ok) return `the new worker holds the old worker's ${handover.expected} rooms (${handover.held} now; ${handover.sampled} sampled keys found) after ${handover.waitedMs} ms`
  const sampled = handover.sampled > 0 ? `; ${handover.missingSampled} of ${handover.sampled} sampled keys missing` : ''
  return `${handover.lost} of the old worker's ${handover.expected} rooms lost: the new worker's table held ${handover.held} ${handover.waitedMs} ms after the reload${sampled} (HAProxy's handover of the room table did not complete)`
}
