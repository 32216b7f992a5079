import {inventoryFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {ExitCode} from '../../errors.js'
import {etcdUnreachable, fleetClient} from '../../fleet/rollout.js'
import {type FleetStatus, fleetStatus} from '../../fleet/status.js'

export default class FleetStatusCommand extends JproxyCommand {
  static override description = `Per fleet proxy: the rollout it runs, the sha256 of the config its agent reported and of the
live file as the agent last read it, when the agent was last seen; and the rollout's state.

Exit 0 converged (every proxy runs the latest rollout), 1 drift (a proxy behind, a live config
that differs from what it applied, an agent not seen for 3 intervals), 11 the rollout halted,
15 etcd unreachable.

More: docs/fleet.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --json']
  static override flags = {inventory: inventoryFlag}
  static override summary = 'Show which rollout every fleet proxy runs, and drift'

  async run(): Promise<FleetStatus> {
    const {flags} = await this.parse(FleetStatusCommand)
    const inventory = await loadCommandInventory(flags.inventory)
    const {client, keys} = await fleetClient(inventory)
    try {
      const status = await fleetStatus({client, keys})
      process.exitCode = ExitCode[status.code]
      if (!this.jsonEnabled()) {
        if (status.rollout) this.log(`rollout ${status.rollout.id}: ${status.rollout.state} (published ${status.rollout.publishedAt} by ${status.rollout.publisher})`)
        for (const p of status.proxies) {
          const seen = p.lastSeenMs === undefined ? 'never seen' : `seen ${Math.round(p.lastSeenMs / 1000)} s ago`
          this.log(`${p.name}: rollout ${p.rollout ?? '-'} sha256 ${p.sha256?.slice(0, 12) ?? '-'} ${seen}${p.problem ? `: ${p.problem}` : ''}`)
        }

        this.log(status.message)
      }

      return status
    } catch (error) {
      throw etcdUnreachable(error)
    } finally {
      await client.close()
    }
  }
}
