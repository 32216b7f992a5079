import {Args, Flags} from '@oclif/core'

import {caFlag, duration, inventoryFlag, maxSessionsFlag, targetFlag} from './flags.js'

/** Flags every `scale` command shares. */
export const scaleFlags = {
  ca: caFlag,
  force: Flags.boolean({description: 'go ahead although the bridge is down or still has participants'}),
  inventory: inventoryFlag,
  'max-sessions': maxSessionsFlag,
  target: targetFlag,
}

/**
 * `--deadline` of `drain-jvb --wait` and `drain-shard --wait`: `--timeout` bounds one request
 * everywhere else, a bound on the whole wait is a deadline; the old `--timeout` still parses, with a warning.
 */
export const waitDeadlineFlag = duration({aliases: ['timeout'], deprecateAliases: true, description: 'how long --wait waits in all (default 1h)'})

/** `--interval` of `drain-jvb --wait` and `drain-shard --wait`. */
export const waitIntervalFlag = duration({description: 'how often --wait asks for the counts (default 10s)'})

export const bridgeIdArg = {id: Args.string({description: "the bridge's server-id (shards[].jvbs[].id)", required: true})}

/** A bridge's address and ports, as `scale add-jvb` and `jvb announce` take them. */
export const bridgeFlags = {
  address: Flags.string({description: "the bridge's address (IP or hostname)", required: true}),
  'colibri-port': Flags.integer({description: 'its colibri websocket port (default 9090)'}),
  'rest-port': Flags.integer({description: 'its REST port: health, drain, stats (default 8080)'}),
}
