import {Args, Flags} from '@oclif/core'

import {inventoryFlag, targetFlag} from './flags.js'

/** Flags every `scale` command shares. */
export const scaleFlags = {
  ca: Flags.string({description: 'CA certificate for the request through the proxy after the change (a private CA)', helpValue: 'FILE'}),
  force: Flags.boolean({description: 'go ahead although the bridge is down or still has participants'}),
  inventory: inventoryFlag,
  'max-sessions': Flags.integer({description: 'relayd: refuse when the reload would cut more open sessions than this', min: 0}),
  target: targetFlag(),
}

export const bridgeIdArg = {id: Args.string({description: "the bridge's server-id (shards[].jvbs[].id)", required: true})}
