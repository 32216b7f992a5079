import {inventoryFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {ExitCode} from '../../errors.js'
import {formatProblem} from '../../inventory/problem.js'
import {type ConfigReport, validateConfig} from '../../render/validate-config.js'

export default class ValidateConfig extends JproxyCommand {
  static override description = `Checks the inventory against the schema (every string that could reach a config is constrained: names, addresses, absolute paths, ports) and the cross-field rules (unique names, server-ids and address:port pairs, relayd's 32 hosts per table, health timing), then renders each target to find what a target cannot express. Each problem names the file, line and field path, e.g. \`jproxy.yaml:31: shards[1].jvbs[0].address: must be an IP address or a hostname\`.`

  static override examples = ['<%= config.bin %> <%= command.id %> -i examples/two-shards.yaml', '<%= config.bin %> <%= command.id %> --json']
  static override flags = {inventory: inventoryFlag}
  static override summary = 'Validate the inventory'

  async run(): Promise<ConfigReport> {
    const {flags} = await this.parse(ValidateConfig)
    const report = await validateConfig(flags.inventory)
    if (!report.ok) process.exitCode = report.unreadable ? ExitCode.inventoryUnreadable : report.problems.length > 0 ? ExitCode.inventoryInvalid : ExitCode.renderFailed
    if (this.jsonEnabled()) return report

    for (const problem of report.problems) this.log(formatProblem(report.file, problem))
    for (const [target, reason] of Object.entries(report.targets ?? {})) {
      this.log(reason === null ? `${report.file}: ${target}: renders` : `${report.file}: ${target}: cannot render: ${reason}`)
    }

    if (report.summary) {
      const {jvbs, shards, web} = report.summary
      this.log(`${report.file}: ${report.ok ? 'valid' : 'not valid'}: ${web} web node(s), ${shards} shard(s), ${jvbs} videobridge(s)`)
    }

    return report
  }
}
