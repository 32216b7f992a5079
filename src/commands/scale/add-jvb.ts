import {Flags} from '@oclif/core'

import {defaultTarget, readCa} from '../../cli/flags.js'
import {bridgeFlags, bridgeIdArg, scaleFlags} from '../../cli/scale-flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {formatScaleReport} from '../../report/scale.js'
import {addBridge, type ScaleReport} from '../../scale/scale.js'
import {runCommand} from '../../system/command.js'

export default class AddJvb extends JproxyCommand {
  static override args = bridgeIdArg

  static override description = `Adds the bridge to the inventory in place (comments, blank lines and order kept; the new entry
goes after the shard's last bridge), checks the result, and probes the bridge (refused when it
is down, unless --force). Then, on HAProxy, adds it to the running proxy without a reload (\`add
server\` in be_colibri with its health checks, and its id in the colibri allow-list) and
installs the re-rendered haproxy.cfg so the next reload keeps it, verified through \`show
servers state\` and a request through the proxy. On relayd, which cannot add hosts at run time,
the change goes through \`jproxy apply\` and its session guard, and the output says how many
sessions the reload cut. If the proxy side fails, the inventory is put back. Prints the jvb.conf
the new bridge needs (its server-id, websockets domain = the public name, a unique MUC nickname)
and the pf rule for its media port.

More: docs/scale.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> jvb4 --address 10.10.2.24 --shard shard-eu1 --media-address 198.51.100.24']

  static override flags = {
    ...scaleFlags,
    ...bridgeFlags,
    'media-address': Flags.string({description: 'its public media address (for the pf rule)'}),
    'media-port': Flags.integer({description: 'its public media UDP port (default 10000)'}),
    shard: Flags.string({description: 'the shard to add it to (needed when there are several)'}),
  }

  static override summary = 'Add a videobridge without a reload'

  async run(): Promise<ScaleReport> {
    const {args, flags} = await this.parse(AddJvb)
    const media = flags['media-address'] ? {address: flags['media-address'], port: flags['media-port']} : undefined
    const report = await addBridge({
      file: flags.inventory,
      force: flags.force,
      jvb: {address: flags.address, colibriPort: flags['colibri-port'], id: args.id, media, restPort: flags['rest-port']},
      maxSessions: flags['max-sessions'],
      run: runCommand,
      shard: flags.shard,
      target: defaultTarget(flags.target),
      tlsCa: await readCa(flags.ca),
    })
    process.exitCode = report.exitCode
    if (!this.jsonEnabled()) (report.exitCode === 0 ? process.stdout : process.stderr).write(formatScaleReport(report))
    return report
  }
}
