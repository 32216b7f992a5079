import {Args} from '@oclif/core'

import {inventoryFlag, targetFlag, targetFromArgs} from '../cli/flags.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {ExitCode} from '../errors.js'
import {loadCommandInventory} from '../cli/inventory.js'
import {formatStatus} from '../report/status.js'
import {type StatusReport, proxyStatus} from '../status/status.js'
import {runCommand} from '../system/command.js'

export default class Status extends JproxyCommand {
  static override args = {
    target: Args.string({description: 'deprecated: use --target', hidden: true, options: ['haproxy', 'relayd']}),
  }

  static override description = `Reads the running proxy's view of every backend (HAProxy \`show stat\` over
targets.haproxy.socket; relayd \`relayctl show hosts\`) and puts it beside the last probe's
damped state (probe.stateFile) for each backend of the inventory, disagreements first: traffic
sent to a backend the probe finds down, a backend the probe finds up that the proxy keeps away,
one missing from the running proxy, or one never probed. Changes nothing. Exits 15 when the
running proxy cannot be asked.

More: docs/status.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --target relayd --json']

  static override flags = {inventory: inventoryFlag, target: targetFlag}

  static override summary = 'Show the proxy\'s view of each backend beside the last probe'

  async run(): Promise<StatusReport> {
    const {args, flags} = await this.parse(Status)
    const inventory = await loadCommandInventory(flags.inventory)
    const target = targetFromArgs(flags.target, args.target, (m) => this.warn(m))
    const report = await proxyStatus({inventory, run: runCommand, target})
    if (!report.reachable) process.exitCode = ExitCode.proxyUnreachable
    if (!this.jsonEnabled()) process.stdout.write(formatStatus(report))
    return report
  }
}
