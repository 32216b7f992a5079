import {Flags} from '@oclif/core'

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
