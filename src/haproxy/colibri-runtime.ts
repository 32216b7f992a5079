import type {Inventory, Jvb} from '../inventory/schema.js'
import {ipVersion} from '../system/ip.js'
import {socketCommand} from './socket.js'
import {ADMIN_DRAIN, ALLOW_LIST_ANCHOR, COLIBRI_BACKEND, colibriServer} from './vocabulary.js'

/**
 * The colibri allow-list as the running HAProxy holds it: the `acl known_jvb` lines of `file`
 * (string ACLs of `var(txn.jvb)`, one per bridge when loaded), found by their entries, since a
 * runtime change leaves the file's line numbers behind the running process's. A fleet's list also
 * holds ALLOW_LIST_ANCHOR, so it is found while it names no bridge.
 */
export async function allowLists(socket: string, file: string, jvbIds: Set<string>): Promise<Array<{entries: string[]; id: string}>> {
  const listing = await socketCommand(socket, 'show acl')
  const lists: Array<{entries: string[]; id: string}> = []
  for (const match of listing.matchAll(/^(\d+) \(\) acl 'var' file '([^']*)' line \d+\./gm)) {
    if (match[2] !== file) continue
    const entries = (await socketCommand(socket, `show acl #${match[1]}`))
      .split('\n')
      .map((line) => line.trim().split(/\s+/)[1])
      .filter((entry): entry is string => entry !== undefined)
    if (entries.length > 0 && entries.every((e) => jvbIds.has(e) || e === ALLOW_LIST_ANCHOR)) lists.push({entries, id: match[1]})
  }

  return lists
}

/** Why a bridge cannot be added without a reload, or undefined when it can. */
export async function runtimeAddBlocker(socket: string, jvb: Jvb, inventory: Inventory): Promise<string | undefined> {
  if (!inventory.colibriWs) return 'colibriWs is off'
  if (ipVersion(jvb.address) === 0) return 'HAProxy does not resolve the hostname of a server added at run time'
  const stat = await socketCommand(socket, 'show stat').catch((error: Error) => `error ${error.message}`)
  if (!stat.includes(`\n${COLIBRI_BACKEND},BACKEND,`)) return `the running HAProxy has no ${COLIBRI_BACKEND} backend yet`
  return undefined
}

/** How long a server in maintenance may keep closing connections before `del server` gives up. */
const REMOVABLE_WAIT_MS = 10_000
const REMOVABLE_POLL_MS = 100

/** One runtime command whose answer must say it worked (HAProxy answers errors in plain text). */
async function expect(socket: string, command: string, ok: (answer: string) => boolean): Promise<void> {
  const answer = (await socketCommand(socket, command)).trim()
  if (!ok(answer)) throw new Error(`"${command}": ${answer || 'no answer'}`)
}

const silent = (answer: string) => answer === ''

/**
 * Adds a bridge to the running HAProxy: the server (as the rendered file declares it), its
 * health checks, ready state, and its id in the colibri allow-list.
 */
export async function addColibriServer(socket: string, file: string, jvb: Jvb, inventory: Inventory): Promise<void> {
  const server = `${COLIBRI_BACKEND}/${jvb.id}`
  const [allowList] = await allowLists(socket, file, jvbIds(inventory))
  if (!allowList) throw new Error(`no colibri allow-list (acl known_jvb) from ${file} in the running HAProxy`)
  await expect(socket, `add server ${COLIBRI_BACKEND}/${colibriServer(jvb, inventory)}`, (a) => a.includes('New server registered'))
  try {
    await expect(socket, `enable health ${server}`, silent)
    await expect(socket, `set server ${server} state ready`, silent)
    await expect(socket, `add acl #${allowList.id} ${jvb.id}`, silent)
  } catch (error) {
    // Half added is not added: take the new server out again (it has no sessions yet).
    await socketCommand(socket, `set server ${server} state maint`).catch(() => undefined)
    await socketCommand(socket, `del server ${server}`).catch(() => undefined)
    throw error
  }
}

/** Every server-id of the inventory. */
export const jvbIds = (inventory: Inventory) => new Set(inventory.shards.flatMap((s) => s.jvbs.map((j) => j.id)))

/** Drain (new sessions only by explicit route: websockets of running conferences still reach it), or ready again. */
export async function setColibriState(socket: string, id: string, state: 'drain' | 'maint' | 'ready'): Promise<void> {
  await expect(socket, `set server ${COLIBRI_BACKEND}/${id} state ${state}`, silent)
}

/**
 * Takes a bridge out of the running HAProxy: maintenance, its remaining sessions shut when
 * `cut` (HAProxy refuses to delete a server with connections), then the server and its
 * allow-list entry removed.
 */
export async function deleteColibriServer(socket: string, file: string, id: string, known: Set<string>, cut: boolean): Promise<void> {
  const lists = await allowLists(socket, file, new Set([...known, id]))
  const before = await colibriServerState(socket, id)
  await setColibriState(socket, id, 'maint')
  try {
    await removeServer(socket, id, cut)
  } catch (error) {
    // Not removed: back to the state it had (drain or ready), so it serves as before.
    await setColibriState(socket, id, before && before.admin & ADMIN_DRAIN ? 'drain' : 'ready').catch(() => undefined)
    throw error
  }

  for (const list of lists.filter((l) => l.entries.includes(id))) await expect(socket, `del acl #${list.id} ${id}`, silent)
}

async function removeServer(socket: string, id: string, cut: boolean): Promise<void> {
  if (cut) await expect(socket, `shutdown sessions server ${COLIBRI_BACKEND}/${id}`, silent)
  // Closed sessions take a moment to leave the server (HAProxy 3.0 has `wait srv-removable`; 2.6 does not).
  for (let waited = 0; ; waited += REMOVABLE_POLL_MS) {
    const answer = (await socketCommand(socket, `del server ${COLIBRI_BACKEND}/${id}`)).trim()
    if (answer.includes('Server deleted')) break
    if (!answer.includes('still has connections') || waited >= REMOVABLE_WAIT_MS) throw new Error(`"del server ${COLIBRI_BACKEND}/${id}": ${answer}`)
    await new Promise((resolve) => setTimeout(resolve, REMOVABLE_POLL_MS))
  }
}

/** The state letters of one colibri server in `show servers state` (undefined when absent). */
export async function colibriServerState(socket: string, id: string): Promise<ColibriServerState | undefined> {
  return (await colibriServerStates(socket)).get(id)
}

/** One colibri server in `show servers state`: its state letters and where it sends (address and port). */
export interface ColibriServerState {
  address: string
  admin: number
  operational: number
  port: number
}

/** Every server of the colibri backend in `show servers state` (format 1), by server name. */
export async function colibriServerStates(socket: string): Promise<Map<string, ColibriServerState>> {
  const state = await socketCommand(socket, `show servers state ${COLIBRI_BACKEND}`)
  const servers = new Map<string, ColibriServerState>()
  for (const line of state.split('\n')) {
    const f = line.split(' ')
    if (f[1] === COLIBRI_BACKEND && f[3]) servers.set(f[3], {address: f[4], admin: Number(f[6]), operational: Number(f[5]), port: Number(f[18])})
  }

  return servers
}
