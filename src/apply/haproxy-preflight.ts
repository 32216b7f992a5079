import {constants} from 'node:fs'
import {access} from 'node:fs/promises'
import {isAbsolute} from 'node:path'

import {type Bind, bindKey, configBinds} from '../haproxy/binds.js'
import {parseShowInfo, parseShowProc} from '../haproxy/runtime.js'
import {socketCommand} from '../haproxy/socket.js'
import type {Inventory} from '../inventory/schema.js'
import {findOnPath} from '../system/command.js'
import {type PemPart, pemFileProblem} from '../system/pem-file.js'
import {tryBind} from '../system/port.js'

/** What would stop the reload (refuse: exit 11), and what could not be told (warnings). */
export interface Preflight {
  problems: string[]
  warnings: string[]
}

const FIRST_APPLY = 'see "First apply" in docs/apply.md'

/** `denied`: the socket is there but not ours to use (an unprivileged dry run); that says nothing about HAProxy. */
const answers = (socket: string, command: string, parse: (text: string) => unknown): Promise<'denied' | boolean> =>
  socketCommand(socket, command, 2000).then(
    (text) => {
      parse(text)
      return true
    },
    (error: Error) => (/EACCES|EPERM/.test(error.message) ? 'denied' : false),
  )

/** The reload can happen: the master CLI answers, or the reload command exists and a running HAProxy answers on its stats socket. */
async function reloadPathProblems(inventory: Inventory, live: string, warnings: string[]): Promise<string[]> {
  const {masterSocket, reload, socket} = inventory.targets.haproxy
  const master = await answers(masterSocket, 'show proc', parseShowProc)
  if (master === 'denied') warnings.push(`could not ask HAProxy's master CLI at ${masterSocket} (permission denied): run as root to check the reload path`)
  if (master) return []
  if (!reload) {
    return [`HAProxy's master CLI at ${masterSocket} does not answer and targets.haproxy.reload is not set, so nothing could reload HAProxy: start it in master-worker mode with that master socket (haproxy -W -S ${masterSocket} -f ${live}) or set targets.haproxy.reload; ${FIRST_APPLY}`]
  }

  const program = reload[0]
  const found = isAbsolute(program) ? await access(program, constants.X_OK).then(() => program, () => undefined) : findOnPath(program)
  if (!found) return [`targets.haproxy.reload: ${program} is not an executable file${isAbsolute(program) ? '' : ' on PATH'}, and the master CLI at ${masterSocket} does not answer; ${FIRST_APPLY}`]
  // The command path proves the reload by a new worker pid on the stats socket: no HAProxy there, no proof.
  if ((await answers(socket, 'show info', parseShowInfo)) === false) return [`HAProxy is not running: neither its master CLI (${masterSocket}) nor its stats socket (${socket}) answers; start HAProxy first; ${FIRST_APPLY}`]
  return []
}

/**
 * Ports the new config binds must be free or the running HAProxy's own. HAProxy 2.6's CLIs do not
 * list listener addresses, so "its own" is what the configs it may be running bind (the live file,
 * the last-known-good); the master hands those sockets to the new worker. Every other port is
 * tried with a bind of our own, the call the reload will make: cheaper and surer than reading
 * /proc, and the same on OpenBSD.
 */
async function portProblems(binds: Bind[], running: readonly (string | undefined)[], localPeer: string): Promise<Preflight> {
  const own = new Set(running.flatMap((config) => (config === undefined ? [] : configBinds(config, localPeer).map(bindKey))))
  const result: Preflight = {problems: [], warnings: []}
  const fresh = [...new Map(binds.filter((b) => !own.has(bindKey(b))).map((b) => [bindKey(b), b])).values()]
  for (const {address, port} of fresh) {
    const state = await tryBind(address, port)
    if (state === 'in-use') result.problems.push(`port ${port} on ${address} is in use by another process, and the running HAProxy does not listen there: stop that process or choose another port in the inventory`)
    if (state === 'not-local') result.problems.push(`${address} is not an address of this host, so HAProxy could not listen on ${bindKey({address, port})}: add the address or fix proxy.listen`)
    if (state === 'denied') result.warnings.push(`could not tell whether port ${port} on ${address} is free: binding it needs privileges this run does not have`)
  }

  return result
}

/** The certificate file holds a certificate, and it or `<certificate>.key` a private key, as HAProxy's `crt` loads them. */
export async function certificateProblems(inventory: Inventory): Promise<Preflight> {
  const {certificate, key} = inventory.proxy.tls
  const result: Preflight = {problems: [], warnings: []}
  const files: Array<[string, string, PemPart[]]> =
    key === certificate
      ? [['proxy.tls.certificate', certificate, ['certificate', 'key']]]
      : [['proxy.tls.certificate', certificate, ['certificate']], ['proxy.tls.key', key, ['key']]]
  for (const [field, path, parts] of files) {
    const problem = await pemFileProblem(path, parts)
    if (problem?.kind === 'denied') result.warnings.push(`${field}: ${problem.message}, so it was not checked (HAProxy reads it as root)`)
    else if (problem?.kind === 'invalid') result.problems.push(`${field}: ${problem.message}`)
    else if (problem) result.problems.push(`${field}: ${problem.message}: install the file or fix ${field}`)
  }

  return result
}

/**
 * Before anything is installed: would the reload that follows be possible? `running`: the configs
 * the running HAProxy may have loaded (their ports are its own).
 */
export async function reloadPreflight(inventory: Inventory, live: string, config: string, running: readonly (string | undefined)[], localPeer: string): Promise<Preflight> {
  const warnings: string[] = []
  const reload = await reloadPathProblems(inventory, live, warnings)
  const ports = await portProblems(configBinds(config, localPeer), running, localPeer)
  return {problems: [...reload, ...ports.problems], warnings: [...warnings, ...ports.warnings]}
}
