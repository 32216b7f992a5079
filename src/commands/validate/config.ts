import {Flags} from '@oclif/core'
import {stringify} from 'yaml'

import {inventoryFlag, proxyFlag, strictFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {ExitCode} from '../../errors.js'
import {formatProblem, type InventoryProblem} from '../../inventory/problem.js'
import {type ConfigReport, validateConfig} from '../../render/validate-config.js'

export default class ValidateConfig extends JproxyCommand {
  static override description = `Checks the inventory against the schema (every string that could reach a config is constrained:
names, addresses, absolute paths, ports) and the cross-field rules (unique names, server-ids and
address:port pairs, relayd's 32 hosts per table, health timing), then renders each target to
find what a target cannot express. When the inventory lists HAProxy snippets (or with
--haproxy-check), the rendered haproxy.cfg goes through \`haproxy -c\`, and a message about a
snippet line names the snippet's own file and line. Each problem names the file, line and field
path, e.g. \`jproxy.yaml:31: shards[1].jvbs[0].address: must be an IP address or a hostname\`.
Warnings, in the same form, name what is valid but will not work on this host: a shard without
videobridges, a certificate, key or CA file that does not exist or does not load, a logTarget
socket that does not exist, a peers section without this host. They leave the exit code at 0;
with --strict they are errors (exit 4).

More: docs/inventory.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i examples/two-shards.yaml',
    '<%= config.bin %> <%= command.id %> --target relayd',
    '<%= config.bin %> <%= command.id %> --effective',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static override flags = {
    effective: Flags.boolean({description: 'print the inventory with every default filled in, this platform\'s paths, account and chroot included (YAML; with --json, as the "effective" field)'}),
    'haproxy-check': Flags.boolean({
      allowNo: true,
      description: 'run `haproxy -c` on the rendered haproxy.cfg (default: when the inventory lists snippets); needs the certificate files in place',
    }),
    inventory: inventoryFlag,
    proxy: proxyFlag,
    strict: strictFlag,
    target: Flags.option({description: 'check only this target (repeatable; default: all)', multiple: true, options: ['haproxy', 'pf', 'relayd'] as const})(),
  }
  static override summary = 'Validate the inventory'

  async run(): Promise<ConfigReport> {
    const {flags} = await this.parse(ValidateConfig)
    const report = await validateConfig(flags.inventory, {effective: flags.effective, haproxyCheck: flags['haproxy-check'], only: flags.target, proxy: flags.proxy, strict: flags.strict})
    const renders = Object.values(report.targets ?? {}).every((reason) => reason === null)
    if (!report.ok) process.exitCode = report.unreadable ? ExitCode.inventoryUnreadable : report.problems.length > 0 ? ExitCode.inventoryInvalid : renders ? ExitCode.checkFailed : ExitCode.renderFailed
    if (this.jsonEnabled()) return report
    if (report.effective) {
      // The YAML alone on stdout, so it can be piped or saved; problems go to stderr.
      process.stdout.write(stringify(report.effective))
      for (const problem of report.problems) this.logToStderr(formatProblem(report.file, problem))
      for (const warning of report.warnings ?? []) this.logToStderr(formatWarning(report.file, warning))
      for (const [target, reason] of Object.entries(report.targets ?? {})) if (reason !== null) this.logToStderr(`${report.file}: ${target}: cannot render: ${reason}`)
      return report
    }

    for (const problem of report.problems) this.log(formatProblem(report.file, problem))
    for (const warning of report.warnings ?? []) this.log(formatWarning(report.file, warning))
    for (const [target, reason] of Object.entries(report.targets ?? {})) {
      this.log(reason === null ? `${report.file}: ${target}: renders` : `${report.file}: ${target}: cannot render: ${reason}`)
    }

    if (report.haproxyCheck) {
      const {command, messages, ok} = report.haproxyCheck
      for (const m of messages) this.log(`${m.file ?? command.join(' ')}${m.line === undefined ? '' : `:${m.line}`}: ${m.level}: ${m.message}`)
      this.log(`${report.file}: haproxy: \`${command.join(' ')}\` ${ok ? 'accepts' : 'refuses'} the rendered config`)
    }

    if (report.summary) {
      const {jvbs, shards, web} = report.summary
      const warned = report.warnings && report.warnings.length > 0 ? `, ${report.warnings.length} warning(s)` : ''
      this.log(`${report.file}: ${report.ok ? 'valid' : 'not valid'}: ${web} web node(s), ${shards} shard(s), ${jvbs} videobridge(s)${warned}`)
    }

    return report
  }
}

/** A warning as `FILE:LINE: path: warning: message`: the error form, marked, so editors still jump to the line. */
const formatWarning = (file: string, warning: InventoryProblem) => formatProblem(file, {...warning, message: `warning: ${warning.message}`})
