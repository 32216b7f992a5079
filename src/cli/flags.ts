import {Flags} from '@oclif/core'
import {readFile} from 'node:fs/promises'

import {JproxyError} from '../errors.js'
import {parseDuration} from '../inventory/duration.js'
import {DEFAULT_INVENTORY} from '../inventory/load.js'

/** `--inventory/-i`, shared by every command that reads the inventory. */
export const inventoryFlag = Flags.string({
  char: 'i',
  default: DEFAULT_INVENTORY,
  description: 'inventory file (YAML)',
  env: 'JPROXY_INVENTORY',
  helpValue: 'FILE',
})

/** `--format human|nagios`: nagios follows the plugin API (exit 0-3, UNKNOWN when the check cannot run). */
export const formatFlag = Flags.option({default: 'human', description: 'output format', options: ['human', 'nagios'] as const})()

/** `--prom-file`: node_exporter textfile metrics, written to a temporary file and renamed over. */
export const promFileFlag = Flags.string({description: 'also write node_exporter textfile metrics here (write, then rename)', helpValue: 'PATH'})

/** A duration flag (`500ms`, `2s`, `1m`), parsed to milliseconds like the inventory's. */
export const duration = Flags.custom<number>({
  helpValue: 'DURATION',
  async parse(input) {
    const ms = parseDuration(input)
    if (ms === undefined) throw new Error(`"${input}" is not a duration such as 500ms, 2s or 1m`)
    return ms
  },
})

/** The proxy a command acts on when not told: relayd on OpenBSD, HAProxy elsewhere. */
export function defaultTarget(target?: string): 'haproxy' | 'relayd' {
  return (target as 'haproxy' | 'relayd' | undefined) ?? (process.platform === 'openbsd' ? 'relayd' : 'haproxy')
}

/** The PEM text of a `--ca FILE`; an unreadable file is an error naming it. */
export async function readCa(file?: string): Promise<string | undefined> {
  if (file === undefined) return undefined
  return readFile(file, 'utf8').catch((error: Error) => {
    throw new JproxyError('inputUnreadable', `--ca ${file}: ${error.message}`)
  })
}
