import {Flags} from '@oclif/core'

import {DEFAULT_INVENTORY} from '../inventory/load.js'

/** `--inventory/-i`, shared by every command that reads the inventory. */
export const inventoryFlag = Flags.string({
  char: 'i',
  default: DEFAULT_INVENTORY,
  description: 'inventory file (YAML)',
  env: 'JPROXY_INVENTORY',
  helpValue: 'FILE',
})
