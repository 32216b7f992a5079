import {join} from 'node:path'

/**
 * A minimal fleet inventory of two proxies, a and b, whose etcd is `endpoint` and apply.dir is under
 * `dir`: enough for an agent to start, report and stop (nothing it names is ever applied).
 */
export function fleetInventory(dir: string, endpoint: string): Record<string, any> {
  return {
    apply: {dir: join(dir, 'db')},
    domain: 'meet.example.org',
    fleet: {etcd: {endpoints: [endpoint]}, proxies: [{name: 'a'}, {name: 'b'}]},
    proxy: {listen: {ipv4: '127.0.0.1'}, tls: {certificate: '/etc/x.pem', key: '/etc/x.pem'}},
    shards: [{jvbs: [{address: '127.0.0.1', id: 'jvb1'}], name: 's1', prosody: {address: '127.0.0.2', port: 9}}],
    web: [{address: '127.0.0.1', name: 'web1', port: 9}],
  }
}
