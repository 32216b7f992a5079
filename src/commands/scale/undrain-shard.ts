import {JproxyCommand} from '../../cli/jproxy-command.js'
import {scaleFlags} from '../../cli/scale-flags.js'
import type {ScaleReport} from '../../scale/scale.js'
import {drainShardCommand, shardNameArg} from './drain-shard.js'

const {ca, inventory, target} = scaleFlags

export default class UndrainShard extends JproxyCommand {
  static override args = shardNameArg

  static override description = `Puts a drained shard back in service: HAProxy \`set server … state ready\` and its full
weight on be_prosody and be_jicofo (no reload), \`state: drain\` removed from the inventory and the
re-rendered haproxy.cfg installed; relayd \`relayctl host enable\` on its hosts. The same as
\`scale drain-shard SHARD --off\`, verified the same way: read back, and a request through the
proxy trusting --ca, else proxy.tls.ca, else the system's CAs; exit 12 when that fails (the shard
is drained again), 13 only when that undo failed too.

More: docs/rooms-and-shards.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> shard2']

  static override flags = {ca, inventory, target}

  static override summary = 'Undo a shard drain'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(UndrainShard)
    return drainShardCommand(args.shard, {...flags, off: true}, this.jsonEnabled())
  }
}
