import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {type ApplyReport, applyTarget, STAGES, type Stage} from '../apply/apply.js'
import {formatApplyPrometheus} from '../apply/record.js'
import {defaultTarget, inventoryFlag, promFileFlag, readCa} from '../cli/flags.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {loadInventory} from '../inventory/load.js'
import {formatApplyReport} from '../report/apply.js'
import {writeTextfile} from '../report/prometheus.js'
import {runCommand} from '../system/command.js'

/** Test hook: `JPROXY_TEST_CRASH_AT=<stage>` kills the run with SIGKILL as that stage starts, to prove crash safety. */
function crashHook(): ((stage: Stage) => void) | undefined {
  const at = process.env.JPROXY_TEST_CRASH_AT
  if (!at || !(STAGES as readonly string[]).includes(at)) return undefined
  return (stage) => {
    if (stage === at) process.kill(process.pid, 'SIGKILL')
  }
}

export default class Apply extends JproxyCommand {
  static override args = {
    target: Args.string({description: 'which proxy (default: relayd on OpenBSD, else haproxy)', options: ['haproxy', 'relayd']}),
  }

  static override description = `The safe swap: renders the target into a staged file beside the live one, runs jproxy's linter (relayd) and the daemon's own checker on it (\`haproxy -c -f\`, \`relayd -n -f\` where relayd exists, or targets.<t>.check), probes the backends and refuses a config in which the web pool or a shard's prosody has no member up after rise/fall damping (unhealthy videobridges stay in the config: the proxy's checks keep them out), compares it with the live file (unchanged: no reload), and then, under a per-target lock, backs the live file up (apply.backups copies), renames the checked file over it (owner and mode kept, fsynced), reloads (HAProxy: the master CLI, proving a new worker took over, else targets.haproxy.reload; relayd: relayctl reload, after counting the sessions it cuts) and verifies that the proxy lists every backend and server and that a request through it succeeds. If anything after the install fails, the last-known-good config is restored, reloaded and verified. Every run appends a line to the history log (apply.dir). Exit 0 applied or unchanged, 6 checker refused, 10 another apply is running, 11 refused by a gate, 12 rolled back, 13 rollback failed.`

  static override examples = [
    '<%= config.bin %> <%= command.id %> haproxy --dry-run',
    '<%= config.bin %> <%= command.id %> haproxy -i /etc/jproxy.yaml --prom-file /var/lib/node_exporter/jproxy_apply.prom',
    '<%= config.bin %> <%= command.id %> relayd --max-sessions 50',
  ]

  static override flags = {
    ca: Flags.string({description: 'CA certificate for the request through the proxy (a private CA)', helpValue: 'FILE'}),
    'dry-run': Flags.boolean({description: 'check, probe and print the diff; install nothing'}),
    force: Flags.boolean({description: 'install although the health gate or the session guard refuses'}),
    inventory: inventoryFlag,
    'max-sessions': Flags.integer({description: 'relayd: refuse when a reload would cut more open sessions than this', min: 0}),
    'prom-file': promFileFlag,
  }

  static override summary = 'Install a new proxy config only if it is valid and healthy, and prove it'

  async run(): Promise<ApplyReport> {
    const {args, flags} = await this.parse(Apply)
    const inventory = await loadInventory(flags.inventory)
    const target = defaultTarget(args.target)
    const tlsCa = await readCa(flags.ca)
    const checkScripts = {inventoryFile: resolve(flags.inventory), jproxy: process.argv[1], node: process.execPath}
    const report = await applyTarget({checkScripts, dryRun: flags['dry-run'], force: flags.force, inventory, maxSessions: flags['max-sessions'], onStage: crashHook(), run: runCommand, target, tlsCa})
    if (flags['prom-file'] && report.counters) await writeTextfile(flags['prom-file'], formatApplyPrometheus(target, report.counters))
    process.exitCode = report.exitCode
    if (!this.jsonEnabled()) {
      const text = formatApplyReport(report, flags['dry-run'])
      if (report.exitCode === 0) process.stdout.write(text)
      else process.stderr.write(text)
    }

    return report
  }
}
