import {Flags} from '@oclif/core'

import {duration, inventoryFlag, targetFlag, defaultTarget} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadInventoryText} from '../../inventory/load.js'
import {followRollout, publishRollout, renderRollout} from '../../fleet/publish.js'
import {etcdUnreachable, fleetClient} from '../../fleet/rollout.js'

export default class FleetPublish extends JproxyCommand {
  static override description = `Validates the inventory and renders it for every fleet proxy exactly as \`apply\` would, then
stores it in etcd as a new rollout, with a compare-and-swap on the previous one: of two publishes at
once one wins, the other exits 10 naming the winner. Every proxy's agent then applies it in turn,
in fleet.proxies order; a failure halts the rest. A rollout still running or halted is not replaced
without --force. With --wait, follows the rollout until every proxy applied it.

Exit 0 published (with --wait: applied everywhere), 1 with --wait: it ended with a proxy whose
agent was lost (result unknown), 3/4/5 the inventory, 10 another publish won or --wait timed out,
11 a rollout is still running or halted (with --wait: this one halted, naming the proxy and its
reason), 15 etcd unreachable.

More: docs/fleet.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --wait']
  static override flags = {
    // --timeout as the issue names it; deadline because it bounds the whole wait (test/cli/flags.test.ts).
    deadline: duration({aliases: ['timeout'], default: 600_000, description: 'with --wait: how long to follow the rollout in all (default 10m)'}),
    force: Flags.boolean({description: 'supersede a rollout that is still running or halted'}),
    inventory: inventoryFlag,
    target: targetFlag,
    wait: Flags.boolean({description: 'follow the rollout until every proxy applied it, or it halted'}),
  }

  static override summary = 'Publish the inventory as a new fleet rollout'

  async run(): Promise<unknown> {
    const {flags} = await this.parse(FleetPublish)
    const {text} = await loadInventoryText(flags.inventory)
    const target = defaultTarget(flags.target)
    const {configs, inventory} = await renderRollout(text, flags.inventory, target)
    const {client, keys} = await fleetClient(inventory)
    try {
      const published = await publishRollout({client, configs, force: flags.force, keys, target, text})
      const summary = {id: published.rollout.id, inventorySha256: published.rollout.inventorySha256, revision: published.revision}
      if (!this.jsonEnabled()) this.log(`published rollout ${summary.id} at revision ${summary.revision} (inventory sha256 ${summary.inventorySha256})`)
      if (!flags.wait) return summary
      const followed = await followRollout({client, id: published.rollout.id, keys, timeoutMs: flags.deadline})
      if (!this.jsonEnabled()) this.log(`rollout ${summary.id} applied on ${followed.rollout.configs.map((c) => c.name).join(', ')}`)
      return {...summary, results: followed.results}
    } catch (error) {
      throw etcdUnreachable(error)
    } finally {
      await client.close()
    }
  }
}
