import {defaultTarget, readCa} from '../../cli/flags.js'
import {bridgeIdArg, scaleFlags} from '../../cli/scale-flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {formatScaleReport} from '../../report/scale.js'
import {removeBridge, type ScaleReport} from '../../scale/scale.js'
import {runCommand} from '../../system/command.js'

export default class RemoveJvb extends JproxyCommand {
  static override args = bridgeIdArg

  static override description = `Refuses while the bridge has participants (GET /colibri/stats) or they cannot be counted, unless
--force (which cuts their sessions). Then removes it from the inventory in place and from the
proxy: on HAProxy at run time (maintenance, \`del server\`, its id out of the colibri
allow-list; no reload) with the re-rendered haproxy.cfg installed; on relayd through \`jproxy
apply\` and its session guard. If the proxy side fails, the inventory is put back. Drain it
first: \`jproxy scale drain-jvb ID --wait\`.

More: docs/scale.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> jvb4']

  static override flags = scaleFlags

  static override summary = 'Remove a drained videobridge without a reload'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(RemoveJvb)
    const report = await removeBridge({file: flags.inventory, force: flags.force, id: args.id, maxSessions: flags['max-sessions'], requestTimeoutMs: 5000, run: runCommand, target: defaultTarget(flags.target), tlsCa: await readCa(flags.ca)})
    process.exitCode = report.exitCode
    if (!this.jsonEnabled()) (report.exitCode === 0 ? process.stdout : process.stderr).write(formatScaleReport(report))
    return report
  }
}
