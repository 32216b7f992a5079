import {bridgeIdArg, scaleFlags} from '../../cli/scale-flags.js'
import type {ScaleReport} from '../../scale/scale.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {drainCommand} from './drain-jvb.js'

const {inventory, target} = scaleFlags

export default class UndrainJvb extends JproxyCommand {
  static override args = bridgeIdArg

  static override description = 'Puts a drained bridge back in service on both sides: HAProxy `set server … state ready` (relayd `relayctl host enable`) and POST /colibri/drain/disable. The same as `scale drain-jvb ID --off`.'

  static override examples = ['<%= config.bin %> <%= command.id %> jvb4']

  static override flags = {inventory, target}

  static override summary = 'Undo a drain'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(UndrainJvb)
    return drainCommand(args.id, {...flags, off: true}, this.jsonEnabled())
  }
}
