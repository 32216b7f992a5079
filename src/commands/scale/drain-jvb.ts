import {Flags} from '@oclif/core'

import {defaultTarget} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {formatScaleReport} from '../../report/scale.js'
import {bridgeIdArg, scaleFlags, waitDeadlineFlag, waitIntervalFlag} from '../../cli/scale-flags.js'
import {drainBridge, type ScaleReport} from '../../scale/scale.js'
import {runCommand} from '../../system/command.js'

const {inventory, target} = scaleFlags

export default class DrainJvb extends JproxyCommand {
  static override args = bridgeIdArg

  static override description = `Drains a bridge on both sides: the proxy stops choosing it for new sessions (HAProxy \`set
server … state drain\`, relayd \`relayctl host disable\`) while websockets of its running
conferences still reach it, and the bridge itself is put in drain mode (POST
/colibri/drain/enable) so jicofo places no new conferences there. With --wait, polls GET
/colibri/stats until no participants are left (exit 0) or --deadline passes (exit 11), showing
the count on a terminal. --off (or \`scale undrain-jvb\`) reverses both. The inventory does not
change.

More: docs/scale.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> jvb4 --wait --deadline 2h', '<%= config.bin %> <%= command.id %> jvb4 --off']

  static override flags = {
    deadline: waitDeadlineFlag,
    interval: waitIntervalFlag,
    inventory,
    off: Flags.boolean({description: 'undo a drain: back in service on both sides'}),
    target,
    wait: Flags.boolean({description: 'wait until the bridge has no participants left'}),
  }

  static override summary = 'Drain a videobridge (proxy and bridge), optionally waiting until it is empty'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(DrainJvb)
    return drainCommand(args.id, flags, this.jsonEnabled())
  }
}

/** The body of `drain-jvb` and `undrain-jvb`: drain (or undo it), optionally wait with progress on a terminal, present. */
export async function drainCommand(id: string, flags: {interval?: number; inventory: string; off?: boolean; target?: 'haproxy' | 'relayd'; deadline?: number; wait?: boolean}, json: boolean): Promise<ScaleReport> {
  const tty = process.stderr.isTTY && !json
  const report = await drainBridge({
    file: flags.inventory,
    id,
    off: flags.off,
    requestTimeoutMs: 5000,
    run: runCommand,
    target: defaultTarget(flags.target),
    wait: flags.wait && !flags.off ? {intervalMs: flags.interval ?? 10_000, onProgress: tty ? (n, ms) => process.stderr.write(`\r${id}: ${n} participants after ${Math.round(ms / 1000)} s `) : undefined, timeoutMs: flags.deadline ?? 3_600_000} : undefined,
  })
  if (tty && flags.wait) process.stderr.write('\r\u001B[K')
  process.exitCode = report.exitCode
  if (!json) (report.exitCode === 0 ? process.stdout : process.stderr).write(formatScaleReport(report))
  return report
}
