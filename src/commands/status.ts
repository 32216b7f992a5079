import {Args} from '@oclif/core'

import {defaultTarget, inventoryFlag} from '../cli/flags.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {loadInventory} from '../inventory/load.js'
import {formatStatus} from '../report/status.js'
import {type StatusReport, proxyStatus} from '../status/status.js'
import {runCommand} from '../system/command.js'

export default class Status extends JproxyCommand {
  static override args = {
    target: Args.string({description: 'which proxy (default: relayd on OpenBSD, else haproxy)', options: ['haproxy', 'relayd']}),
  }

  static override description = `Reads the running proxy's view of every backend (HAProxy \`show stat\` over targets.haproxy.socket; relayd \`relayctl show hosts\`) and puts it beside the last probe's damped state (probe.stateFile) for each backend of the inventory, disagreements first: traffic sent to a backend the probe finds down, a backend the probe finds up that the proxy keeps away, one missing from the running proxy, or one never probed. Changes nothing.`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> relayd --json']

  static override flags = {inventory: inventoryFlag}

  static override summary = 'Show the proxy\'s view of each backend beside the last probe'

  async run(): Promise<StatusReport> {
    const {args, flags} = await this.parse(Status)
    const inventory = await loadInventory(flags.inventory)
    const target = defaultTarget(args.target)
    const report = await proxyStatus({inventory, run: runCommand, target})
    if (!this.jsonEnabled()) process.stdout.write(formatStatus(report))
    return report
  }
}
