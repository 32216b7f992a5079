import {Flags} from '@oclif/core'

import {duration, inventoryFlag} from '../../cli/flags.js'
import {JproxyCommand} from '../../cli/jproxy-command.js'
import {loadCommandInventory} from '../../cli/inventory.js'
import {bridgeFlags} from '../../cli/scale-flags.js'
import {JproxyError} from '../../errors.js'
import {fleetClient} from '../../fleet/rollout.js'
import {announcementOf, runAnnouncer} from '../../jvb/announce.js'
import {jvbHealthy, jvbParticipants, setJvbDrain} from '../../probe/jvb-rest.js'

/** etcd 3.4's shortest lease with its default timing: a shorter TTL would be raised to it anyway. */
const MIN_TTL_MS = 2000

export default class JvbAnnounce extends JproxyCommand {
  static override description = `The long-running service beside each videobridge of a fleet: while the bridge's
/about/health answers 200 it keeps the key P/jvbs/SHARD/ID in the fleet's etcd, bound to a lease of
--ttl renewed every TTL/3 (P is fleet.prefix). health.fall failed checks in a row withdraw the key
(the lease is revoked), health.rise good ones put it back. SIGTERM or SIGINT asks the bridge to
drain (POST /colibri/drain/enable), announces it as draining until /colibri/stats counts no
participants or --deadline passes, then revokes the key and exits 0; a second signal stops the wait
(and a bridge not announced, being unhealthy, is not waited for).
A killed announcer's key goes when its lease expires. While etcd is unreachable it keeps checking
and retries; it logs one line per change of state. The id, address and ports are checked by the
inventory's rules for a bridge, the shard must be in the inventory, and the address in
fleet.jvbNetworks when that is set.

More: docs/fleet.md (in the package and the repository).`

  static override examples = [
    '<%= config.bin %> <%= command.id %> -i /etc/jproxy/jproxy.yaml --shard shard-eu1 --id jvb7 --address 10.20.0.7',
  ]

  static override flags = {
    ...bridgeFlags,
    deadline: duration({default: 15 * 60_000, description: 'after SIGTERM, how long the draining bridge stays announced with participants (default 15m)'}),
    id: Flags.string({description: "the bridge's server-id (videobridge.websockets.server-id)", helpValue: 'ID', required: true}),
    inventory: inventoryFlag,
    shard: Flags.string({description: 'the shard the bridge serves (one of shards[].name)', helpValue: 'SHARD', required: true}),
    ttl: duration({default: 10_000, description: "the lease: a dead announcer's bridge is gone within it (at least 2s, default 10s)"}),
  }

  static override summary = 'Keep this videobridge registered in the fleet\'s etcd while it is healthy'

  async run(): Promise<void> {
    const {flags} = await this.parse(JvbAnnounce)
    if (flags.ttl < MIN_TTL_MS) throw new JproxyError('usage', `--ttl must be at least 2s (etcd's shortest lease), not ${flags.ttl} ms`)
    const inventory = await loadCommandInventory(flags.inventory)
    const {key, registration} = announcementOf(inventory, {
      address: flags.address,
      colibriPort: flags['colibri-port'],
      id: flags.id,
      restPort: flags['rest-port'],
      shard: flags.shard,
    })
    const ttlSeconds = Math.ceil(flags.ttl / 1000)
    const intervalMs = (ttlSeconds * 1000) / 3
    // A call must not outlast a renewal interval by much, or one hung etcd call lets the lease lapse.
    const {client} = await fleetClient(inventory, Math.max(500, Math.min(5000, intervalMs)))
    const checkTimeoutMs = Math.min(inventory.health.timeout, intervalMs)
    const stop = new AbortController()
    const hurry = new AbortController()
    const onSignal = () => (stop.signal.aborted ? hurry.abort() : stop.abort())
    process.on('SIGTERM', onSignal).on('SIGINT', onSignal)
    try {
      await runAnnouncer({
        bridge: {
          drain: (timeoutMs) => setJvbDrain(registration, true, timeoutMs),
          healthy: (timeoutMs) => jvbHealthy(registration, timeoutMs),
          participants: (timeoutMs) => jvbParticipants(registration, timeoutMs),
        },
        checkTimeoutMs,
        client,
        deadlineMs: flags.deadline,
        fall: inventory.health.fall,
        hurry: hurry.signal,
        key,
        log: (line) => this.logToStderr(line),
        registration,
        rise: inventory.health.rise,
        stop: stop.signal,
        ttlSeconds,
      })
    } finally {
      process.off('SIGTERM', onSignal).off('SIGINT', onSignal)
      await client.close()
    }
  }
}
