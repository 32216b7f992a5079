import {Flags} from '@oclif/core'

import {applyTarget} from '../../apply/apply.js'
import {caFlag, duration, inventoryFlag, readCa} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {runAgent} from '../../fleet/agent.js'
import {fleetClient} from '../../fleet/rollout.js'
import {haproxyFacts} from '../../fleet/worker.js'
import {runCommand} from '../../system/command.js'

export default class FleetAgent extends JproxyCommand {
  static override description = `The long-running service on each fleet proxy: follows the fleet's rollouts in etcd and applies
each one in this proxy's turn (one proxy at a time, in fleet.proxies order, under an etcd lock
bound to the agent's lease), writing the rollout's inventory to -i first and running the same
safe swap as \`jproxy apply --proxy NAME\`. Each result is recorded fenced on the turn's lock; a
failure halts the rollout for every proxy after this one; a proxy whose agent was lost in its
turn is recorded unknown, and catches up when its agent is back. While etcd is unreachable the
proxy keeps its config and the agent retries; it logs one line per change of state. Every --interval
it reports what it runs and HAProxy's worker pid, reload count and peer links (\`fleet status\`
shows them). SIGTERM stops it.

More: docs/fleet.md (in the package and the repository).`

  static override examples = ['<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --name proxy-a']
  static override flags = {
    ca: caFlag,
    interval: duration({default: 5000, description: 'how often the agent reports to etcd (default 5s)'}),
    inventory: inventoryFlag,
    'lease-ttl': Flags.integer({default: 10, description: 'seconds: a dead agent\'s turn is released within this', min: 2}),
    name: Flags.string({description: 'this proxy\'s name in fleet.proxies', helpValue: 'NAME', required: true}),
  }

  static override summary = 'Apply each fleet rollout on this proxy, in its turn'

  async run(): Promise<void> {
    const {flags} = await this.parse(FleetAgent)
    const inventory = await loadCommandInventory(flags.inventory)
    const tlsCa = await readCa(flags.ca)
    const {client, keys} = await fleetClient(inventory)
    const stop = new AbortController()
    const onSignal = () => stop.abort()
    process.once('SIGTERM', onSignal).once('SIGINT', onSignal)
    try {
      await runAgent({
        apply: (view, target) => applyTarget({hostname: flags.name, inventory: view, run: runCommand, target, tlsCa}),
        client,
        haproxyFacts,
        intervalMs: flags.interval,
        inventoryFile: flags.inventory,
        keys,
        leaseTtl: flags['lease-ttl'],
        log: (line) => this.logToStderr(line),
        name: flags.name,
        signal: stop.signal,
      })
    } finally {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal)
      await client.close()
    }
  }
}
