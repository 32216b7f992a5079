import {type Stats, statSync} from 'node:fs'

import {localPeerProblem} from '../haproxy/local-peer.js'
import type {InventoryProblem} from '../inventory/problem.js'
import type {Inventory} from '../inventory/schema.js'
import {type PemPart, pemFileProblem} from '../system/pem-file.js'
import {formatPath} from '../inventory/problem.js'
import type {TargetName} from './targets.js'

export interface WarningOptions {
  /** This host's name, for the peers check. */
  hostname: string
  /** The field's line in the inventory. */
  lineOf: (path: ReadonlyArray<PropertyKey>) => number | undefined
  /** The targets checked: the HAProxy-only warnings need `haproxy`. */
  targets: TargetName[]
}

/**
 * What a valid inventory says that will not work on this host: the schema cannot see files and
 * sockets, and these fail later with another program's words (HAProxy's line in a staged file)
 * or not at all (a 404 for every colibri websocket). Each names its field and line.
 */
export async function configWarnings(inventory: Inventory, options: WarningOptions): Promise<InventoryProblem[]> {
  const warnings: InventoryProblem[] = []
  const warn = (path: Array<number | string>, message: string) => warnings.push({line: options.lineOf(path), message, path: formatPath(path)})

  for (const [index, shard] of inventory.shards.entries()) {
    if (shard.jvbs.length > 0) continue
    const why = inventory.colibriWs ? `every /colibri-ws/ request for its rooms would get 404` : 'its conferences would have no media'
    warn(['shards', index, 'jvbs'], `shard ${shard.name} has no videobridges: ${why}`)
  }

  const {tls} = inventory.proxy
  const files: Array<[string, string | undefined, PemPart]> = [
    ['certificate', tls.certificate, 'certificate'],
    ['key', tls.key, 'key'],
    ['ca', tls.ca, 'certificate'],
  ]
  for (const [field, file, part] of files) {
    const problem = file === undefined ? undefined : await pemFileProblem(file, [part])
    if (problem) warn(['proxy', 'tls', field], problem.message)
  }

  if (options.targets.includes('haproxy')) {
    const {localPeer, logTarget} = inventory.targets.haproxy
    if (logTarget.startsWith('/')) {
      // Synchronous: node:fs/promises would cost `validate config` its start-up.
      const socket = statOrReason(logTarget)
      if (typeof socket === 'string') warn(['targets', 'haproxy', 'logTarget'], `no socket at ${logTarget} (${socket}): HAProxy's log lines would be lost; is syslog running?`)
      else if (!socket.isSocket()) warn(['targets', 'haproxy', 'logTarget'], `${logTarget} is not a socket: HAProxy's log lines would be lost`)
    }

    const peers = localPeerProblem(inventory, options.hostname)
    if (peers) warn(localPeer === undefined ? ['proxy', 'peers'] : ['targets', 'haproxy', 'localPeer'], peers)
  }

  return warnings
}

/** A file's stat, or why there is none (errno's code). */
function statOrReason(path: string): Stats | string {
  try {
    return statSync(path)
  } catch (error) {
    const {code, message} = error as NodeJS.ErrnoException
    return code ?? message
  }
}
