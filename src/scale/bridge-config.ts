import type {Inventory, Jvb, Shard} from '../inventory/schema.js'
import {jvbMediaRule} from '../render/pf-view.js'

/**
 * The jvb.conf (HOCON) a new bridge needs behind this proxy: its server-id (the path segment
 * the proxy routes on, unique in the inventory), websockets advertised on the public name and
 * port with TLS, the public colibri-ws and private REST ports the inventory expects, and a
 * brewery login with a unique MUC nickname. Passwords are left for the admin.
 */
export function jvbConfFragment(inventory: Inventory, shard: Shard, jvb: Jvb): string {
  const {domain} = inventory
  return `videobridge {
  http-servers {
    public { port = ${jvb.colibriPort} }                        # colibri websockets, reached through the proxy
    private { host = "${jvb.address}", port = ${jvb.restPort} }   # health, drain and stats for jproxy (not loopback)
  }
  websockets {
    enabled = true
    server-id = "${jvb.id}"                                     # /colibri-ws/${jvb.id}/… routes here
    domain = "${domain}:${inventory.proxy.listen.httpsPort}"    # what clients connect to: the proxy
    tls = true
  }
  apis {
    rest { enabled = true }                                     # /colibri/stats for drain --wait
    xmpp-client { configs { ${shard.name} {
      hostname = "${shard.prosody.address}"
      domain = "auth.${domain}"
      username = "jvb"
      password = "CHANGE-ME"
      muc_jids = "JvbBrewery@internal.auth.${domain}"
      muc_nickname = "${jvb.id}"                                # unique across the bridges
    } } }
  }
}
`
}

/** The pf rule for the bridge's media port, as `jproxy gen pf` renders it. */
export function jvbPfRule(jvb: Jvb): string {
  return jvbMediaRule(jvb) ?? `# ${jvb.id} has no media address: add media.address (its public IP) and run jproxy gen pf`
}
