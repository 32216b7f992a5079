import {Flags} from '@oclif/core'

import {inventoryFlag, targetFlag, defaultTarget} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {rollbackRollout} from '../../fleet/publish.js'
import {etcdUnreachable, fleetClient} from '../../fleet/rollout.js'

export default class FleetRollback extends JproxyCommand {
  static override description = `Publishes an earlier rollout's inventory as a new rollout (by default the one before the current
one), which every agent then applies in turn like any other. It supersedes a halted or running
rollout. Exit codes as \`fleet publish\`.

More: docs/fleet.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --to 12']
  static override flags = {
    inventory: inventoryFlag,
    target: targetFlag,
    to: Flags.integer({description: 'the rollout number to publish again (default: the one before the current one)', min: 1}),
  }

  static override summary = 'Publish an earlier rollout again'

  async run(): Promise<unknown> {
    const {flags} = await this.parse(FleetRollback)
    const inventory = await loadCommandInventory(flags.inventory)
    const {client, keys} = await fleetClient(inventory)
    try {
      const published = await rollbackRollout({client, keys, target: defaultTarget(flags.target), to: flags.to})
      if (!this.jsonEnabled()) this.log(`published rollout ${published.rollout.id} (the inventory of rollout ${published.from}) at revision ${published.revision}`)
      return {from: published.from, id: published.rollout.id, revision: published.revision}
    } catch (error) {
      throw etcdUnreachable(error)
    } finally {
      await client.close()
    }
  }
}
