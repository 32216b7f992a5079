import {Args, Flags} from '@oclif/core'
import {resolve} from 'node:path'

import {type ApplyReport, applyTarget, STAGES, type Stage} from '../apply/apply.js'
import {caFlag, inventoryFlag, maxSessionsFlag, promFileFlag, proxyFlag, readCa, targetFlag, targetFromArgs} from '../cli/flags.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {ExitCode} from '../errors.js'
import {loadCommandInventorySource} from '../cli/inventory.js'
import {proxyView} from '../inventory/proxy-view.js'
import {formatApplyReport} from '../report/apply.js'
import {formatApplyPrometheus} from '../report/apply-prometheus.js'
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
    target: Args.string({description: 'deprecated: use --target', hidden: true, options: ['haproxy', 'relayd']}),
  }

  static override description = `The safe swap: render the target into a staged file beside the live one; run jproxy's linter
(relayd) and the daemon's own checker on it; probe the backends and refuse a config in which the
web pool or a shard's prosody has no member up; compare it with the live file (unchanged: no
reload); then, under a per-target lock, back the live file up, rename the checked file over it,
reload, and verify that the proxy lists every backend and that a request through it succeeds. HAProxy
reloads only once its room table can be handed over (show peers: resyncs over, every remote peer
connected; waited for up to apply.reloadTimeout), and the new worker must then hold the old worker's
rooms. If anything after the install fails, the last-known-good config is restored, reloaded and
verified.
Every run appends a line to the history log (apply.dir).

A dry run shows the diff, also when the health gate would refuse (and says so); with --exit-code
it exits 1 when the config would change, like \`git diff --exit-code\`.

Exit 0 applied or unchanged, 1 would change (--dry-run --exit-code), 6 checker refused, 10
another apply is running, 11 refused by a gate or because the reload could not happen (HAProxy
not running in master-worker mode, a port held by another process, a certificate that does not
load, a remote peer down or the room table's resync unfinished), 12 rolled back (also when the
reload lost rooms: the message says how many), 13 rollback failed, 17 failed with nothing earlier to restore.

More: docs/apply.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> --target haproxy --dry-run',
    '<%= config.bin %> <%= command.id %> --dry-run --exit-code -q || echo "the proxy config would change"',
    '<%= config.bin %> <%= command.id %> -q -i /etc/jproxy/jproxy.yaml --prom-file /var/lib/prometheus/node-exporter/jproxy_apply.prom',
    '<%= config.bin %> <%= command.id %> --target relayd --max-sessions 50',
  ]

  static override flags = {
    ca: caFlag,
    'dry-run': Flags.boolean({description: 'check, probe and print the diff; install nothing'}),
    'exit-code': Flags.boolean({dependsOn: ['dry-run'], description: 'with --dry-run: exit 1 when the config would change'}),
    force: Flags.boolean({description: 'install although the health gate, the session guard or the room-table gate refuses'}),
    inventory: inventoryFlag,
    'max-sessions': maxSessionsFlag,
    'prom-file': promFileFlag,
    proxy: proxyFlag,
    quiet: Flags.boolean({char: 'q', description: 'print nothing when nothing changed (cron mails only changes and failures)'}),
    target: targetFlag,
  }

  static override summary = 'Install a new proxy config only if it is valid and healthy, and prove it'

  async run(): Promise<ApplyReport> {
    const {args, flags} = await this.parse(Apply)
    const {inventory: loaded, source} = await loadCommandInventorySource(flags.inventory)
    const inventory = flags.proxy === undefined ? loaded : proxyView(loaded, flags.proxy)
    const target = targetFromArgs(flags.target, args.target, (m) => this.warn(m))
    const tlsCa = await readCa(flags.ca)
    const report = await applyTarget({
      checkScripts: {inventoryFile: resolve(flags.inventory), jproxy: process.argv[1], node: process.execPath},
      dryRun: flags['dry-run'],
      force: flags.force,
      inventory,
      inventorySource: source,
      maxSessions: flags['max-sessions'],
      onStage: crashHook(),
      run: runCommand,
      target,
      tlsCa,
    })
    const promFile = flags['prom-file']
    if (promFile && report.counters) await writeTextfile(promFile, formatApplyPrometheus(target, report.counters))
    // Like `git diff --exit-code`: 1 says "would change", distinct from every failure code.
    const wouldChange = flags['exit-code'] && report.exitCode === ExitCode.ok && report.changed
    process.exitCode = wouldChange ? ExitCode.failure : report.exitCode
    const quiet = flags.quiet && report.exitCode === ExitCode.ok && !report.changed
    if (!this.jsonEnabled() && !quiet) {
      const text = formatApplyReport(report, flags['dry-run'])
      if (report.exitCode === 0) process.stdout.write(text)
      else process.stderr.write(text)
    }

    return report
  }
}
