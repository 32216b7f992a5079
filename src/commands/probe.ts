import {Flags} from '@oclif/core'

import {caFlag, duration, formatFlag, inventoryFlag, promFileFlag, readCa} from '../cli/flags.js'
import {JproxyCommand} from '../cli/jproxy-command.js'
import {ExitCode, JproxyError} from '../errors.js'
import {loadCommandInventory} from '../cli/inventory.js'
import {CHECK_SCRIPT_EXIT, checkHost, type HostCheck} from '../probe/check-host.js'
import {ROLES} from '../probe/model.js'
import {type ProbeReport, probeInventory} from '../probe/probe.js'
import {reloadingInventory, watchProbes} from '../probe/watch.js'
import {formatNagios} from '../report/nagios.js'
import {formatProbeTable} from '../report/probe-table.js'
import {formatPrometheus, writeTextfile} from '../report/prometheus.js'

export default class Probe extends JproxyCommand {
  static override description = `Probes every backend the way its role needs: web \`GET /\` (probe.webPath) expecting 2xx;
prosody \`GET /http-bind\` 200 and an XMPP websocket upgrade (101); jicofo \`GET /about/health\`
(200 up, 503 transitional); videobridges \`GET /about/health\` on the REST port, their drain
state and (probe.jvbStats) participants, and that the colibri-ws port accepts connections; and
the proxy itself, \`/http-bind\` through each listen address with the public name. Every probe
is bounded (health.timeout, probe.deadline for the run, probe.concurrency at once, 64 KiB of
body, no redirects followed). A state file keeps rise/fall counts between runs, so a backend
goes down only after health.fall failed runs and up after health.rise good ones; each change is
printed as one line on stderr. Exit 0 when every backend is up, 8 when one is down; --format
nagios follows the plugin API (0/1/2/3). With --host, jproxy is a relayd \`check script\`: it
probes the backends at that address and exits 1 when they are up and 0 when not, as relayd
expects. With --watch it runs as a service: a probe run every health.interval, each rewriting
the state file and the plain-text verdicts beside it (probe-state.txt) that relayd's check
scripts read (probe.relaydChecks), state changes logged on stderr, the inventory read again
when it changes; SIGTERM stops it after the round in progress.

More: docs/probing.md and docs/relayd-checks.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --role jvb --shard shard1',
    '<%= config.bin %> <%= command.id %> --quiet --prom-file /var/lib/prometheus/node-exporter/jproxy.prom',
    '<%= config.bin %> <%= command.id %> --format nagios',
    '<%= config.bin %> <%= command.id %> --role jvb --host 10.0.1.21; echo $?   # relayd check script: 1 up, 0 down',
    '<%= config.bin %> <%= command.id %> --watch --inventory /etc/jproxy/jproxy.yaml   # the service relayd\'s check scripts read',
  ]

  static override flags = {
    ca: caFlag,
    concurrency: Flags.integer({description: 'probes in flight at once (default: probe.concurrency)', max: 1024, min: 1}),
    deadline: duration({description: 'end the whole run by then (default: probe.deadline)'}),
    format: formatFlag,
    host: Flags.string({description: 'relayd check-script mode: probe the backends at this address; exit 1 if up, 0 if down', helpValue: 'ADDRESS'}),
    id: Flags.string({description: 'only these ids (web node names, shard names for prosody/jicofo, server-ids)', multiple: true}),
    inventory: inventoryFlag,
    'prom-file': promFileFlag,
    quiet: Flags.boolean({char: 'q', description: 'print only state changes (for cron)'}),
    role: Flags.option({description: 'only these roles', multiple: true, options: ROLES})(),
    shard: Flags.string({description: 'only these shards', multiple: true}),
    state: Flags.boolean({allowNo: true, default: true, description: 'damp verdicts with the rise/fall state file'}),
    'state-file': Flags.string({description: 'rise/fall state file (default: probe.stateFile)', helpValue: 'PATH'}),
    timeout: duration({description: 'per-backend probe timeout (default: health.timeout)'}),
    watch: Flags.boolean({
      description: 'keep probing every health.interval as a service, rewriting the state files each round',
      exclusive: ['host', 'format', 'prom-file', 'id', 'role', 'shard', 'concurrency', 'deadline', 'timeout'],
    }),
  }

  static override summary = 'Health-probe every backend, by role'

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    // Whatever goes wrong, relayd must read "down" (0).
    if (this.argv.some((a) => a === '--host' || a.startsWith('--host='))) {
      process.exitCode = CHECK_SCRIPT_EXIT.down
      this.logToStderr(`jproxy: ${error.message}`)
      return
    }

    return super.catch(error)
  }

  async run(): Promise<HostCheck | ProbeReport | {rounds: number}> {
    const {flags} = await this.parse(Probe)
    // --ca is read before the watcher starts: it overrides proxy.tls.ca in every round.
    if (flags.watch) return this.watch(flags.inventory, flags['state-file'], await readCa(flags.ca))
    const inventory = await loadCommandInventory(flags.inventory)

    if (flags.host !== undefined) {
      const check = await checkHost({host: flags.host, inventory, roles: flags.role, timeoutMs: flags.timeout})
      process.exitCode = check.up ? CHECK_SCRIPT_EXIT.up : CHECK_SCRIPT_EXIT.down
      // `HOST up` on stdout: the check script trusts that line, not exit 1 alone (a Node failing to start exits 1).
      if (!this.jsonEnabled() && check.up) process.stdout.write(`${flags.host} up\n`)
      if (!this.jsonEnabled() && !check.up) this.logToStderr(`jproxy: ${flags.host} down: ${check.why}`)
      return check
    }

    const progress = process.stderr.isTTY && !flags.quiet && !this.jsonEnabled() && flags.format === 'human' ? ttyProgress(Date.now) : undefined
    const report = await probeInventory({
      concurrency: flags.concurrency,
      deadlineMs: flags.deadline,
      filter: {ids: flags.id, roles: flags.role, shards: flags.shard},
      inventory,
      onProgress: progress,
      stateFile: flags.state ? flags['state-file'] : null,
      timeoutMs: flags.timeout,
      tlsCa: await readCa(flags.ca),
    })
    if (report.backends.length === 0) throw new JproxyError('usage', 'no backend matches --role/--shard/--id')

    if (flags['prom-file']) await writeTextfile(flags['prom-file'], formatPrometheus(report, new Date()))
    for (const warning of report.warnings) this.logToStderr(`jproxy: warning: ${warning}`)
    for (const flip of report.flips) this.logToStderr(`jproxy: ${flip}`)

    if (flags.format === 'nagios' && !this.jsonEnabled()) {
      const {exitCode, text} = formatNagios(report)
      process.stdout.write(text)
      process.exitCode = exitCode
      return report
    }

    if (!this.jsonEnabled() && !flags.quiet) process.stdout.write(formatProbeTable(report))
    if (report.backends.some((b) => b.state === 'down')) process.exitCode = ExitCode.backendsDown
    return report
  }

  private async watch(inventoryFile: string, stateFile?: string, tlsCa?: string): Promise<{rounds: number}> {
    const log = (line: string) => this.logToStderr(line)
    const inventory = reloadingInventory(inventoryFile, loadCommandInventory, log)
    await inventory() // an inventory that does not load stops the service at once, with its problems
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGTERM', onSignal).once('SIGINT', onSignal)
    log(`jproxy: watching the backends of ${inventoryFile}`)
    try {
      return await watchProbes({inventory, log, signal: stop.signal, stateFile, tlsCa})
    } finally {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal)
      log('jproxy: watcher stopped')
    }
  }
}

/** `probing n/total` on one TTY line, only once a run has taken a second (short runs stay quiet); cleared at the end. */
function ttyProgress(now: () => number): (done: number, total: number) => void {
  const started = now()
  let shown = false
  return (done, total) => {
    if (!shown && now() - started < 1000) return
    shown = true
    process.stderr.write(`\rprobing ${done}/${total}${done === total ? '\r\u001B[K' : ''}`)
  }
}
