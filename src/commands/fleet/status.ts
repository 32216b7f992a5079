import {inventoryFlag, promFileFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {ExitCode} from '../../errors.js'
import {etcdUnreachable, fleetClient} from '../../fleet/rollout.js'
import {type FleetStatus, fleetStatus} from '../../fleet/status.js'
import {formatFleetPrometheus} from '../../report/fleet-prometheus.js'
import {formatFleetStatus} from '../../report/fleet-status.js'
import {writeTextfile} from '../../report/prometheus.js'

export default class FleetStatusCommand extends JproxyCommand {
  static override description = `Per fleet proxy, as its agent last reported: the rollout it runs, the sha256 of the config it
applied and of the live file, HAProxy's worker pid, reload count and peer links, and when the
agent was last seen; and the rollout's state. A peer link that is not established, or HAProxy
not answering its agent, is a note on that proxy: it does not change the exit code.

Exit 0 converged (every proxy runs the latest rollout), 1 drift (a proxy behind, a live config
that differs from what it applied, an agent not seen for 3 intervals), 11 the rollout halted,
15 etcd unreachable. --prom-file writes node_exporter textfile metrics, also when etcd is
unreachable (jproxy_fleet_etcd_up 0).

More: docs/fleet.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --json',
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --prom-file /var/lib/prometheus/node-exporter/jproxy-fleet.prom',
  ]

  static override flags = {inventory: inventoryFlag, 'prom-file': promFileFlag}
  static override summary = 'Show which rollout every fleet proxy runs, HAProxy\'s worker and peer links, and drift'

  async run(): Promise<FleetStatus> {
    const {flags} = await this.parse(FleetStatusCommand)
    const inventory = await loadCommandInventory(flags.inventory)
    const {client, keys} = await fleetClient(inventory)
    const promFile = flags['prom-file']
    let status: FleetStatus
    try {
      status = await fleetStatus({client, keys})
    } catch (error) {
      // The metrics say etcd is down before the command fails on it: that is what their alert is for.
      if (promFile) await writeTextfile(promFile, formatFleetPrometheus(undefined, new Date()))
      throw etcdUnreachable(error)
    } finally {
      await client.close()
    }

    if (promFile) await writeTextfile(promFile, formatFleetPrometheus(status, new Date()))
    process.exitCode = ExitCode[status.code]
    if (!this.jsonEnabled()) process.stdout.write(formatFleetStatus(status))
    return status
  }
}
