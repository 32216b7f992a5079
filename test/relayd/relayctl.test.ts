import {expect} from 'chai'

import {declaredRelays} from '../../src/apply/relayd-reload.js'
import {Inventory} from '../../src/inventory/schema.js'
import {parseRelaydSessions, parseRelayctlTable} from '../../src/relayd/relayctl.js'
import {renderTarget} from '../../src/render/targets.js'
import {proxyStatus} from '../../src/status/status.js'
import {smallInventory} from '../fixtures/inventories.js'

// relayctl's own layout (relayd.md §4.2): printf("%-4u\t%-8s\t%-24s\t%-7s\t%s\n"), header "Id\tType\tName\tAvlblty\tStatus".
const HOSTS = [
  'Id  \tType    \tName                    \tAvlblty\tStatus',
  '1   \ttable   \tweb:80                  \t       \tactive (1 hosts)',
  '1   \thost    \t10.0.0.2                \t100.00%\tup',
  '    \t        \t                        \ttotal: 120/120 checks',
  '2   \ttable   \tprosody:5280            \t       \tactive (1 hosts)',
  '2   \thost    \t10.0.0.10               \t97.50% \tup',
  '    \t        \t                        \ttotal: 117/120 checks, 3 retries',
  '3   \ttable   \tjicofo:8888             \t       \tempty',
  '3   \thost    \t10.0.0.10               \t0.00%  \tdown',
  '    \t        \t                        \ttotal: 0/120 checks, error: http code mismatch',
  '4   \ttable   \tcolibri-jvb1:9090       \t       \tdisabled',
  '4   \thost    \t10.0.0.21 parent 7      \t       \tunknown',
  '',
].join('\n')

const SUMMARY = [
  'Id  \tType    \tName                    \tAvlblty\tStatus',
  '1   \trelay   \twww                     \t       \tactive',
  '2   \trelay   \twww6                    \t       \tdisabled',
  '1   \ttable   \tweb:80                  \t       \tactive (1 hosts)',
  '1   \thost    \t10.0.0.2                \t100.00%\tup',
  '1   \tredirect\tmedia                   \t       \tactive (using backup table)',
  '',
].join('\n')

const SESSIONS = [
  'session 0:1 192.0.2.55:51234 -> 10.0.0.10:5280\tRUNNING',
  '\tage 00:01:02, idle 00:00:01, relay 1, pid 4242',
  'session 0:2 192.0.2.56:40000 -> 10.0.0.2:80\tDONE',
  '\tage 00:00:03, idle 00:00:03, relay 1, pid 4242, tag (1) room',
  'session 1:3 [2001:db8::9]:51000 -> 10.0.0.21:9090\tRUNNING',
  '\tage 01:00:00, idle 00:00:20, relay 2, pid 4243',
  '',
].join('\n')

describe('relayctl output parsers (fixtures in relayctl\'s layout)', () => {
  it('show hosts: tables, hosts with availability, check totals, retries, errors and parents', () => {
    const entries = parseRelayctlTable(HOSTS)
    expect(entries.map((e) => [e.type, e.name, e.status])).to.deep.equal([
      ['table', 'web:80', 'active (1 hosts)'],
      ['host', '10.0.0.2', 'up'],
      ['table', 'prosody:5280', 'active (1 hosts)'],
      ['host', '10.0.0.10', 'up'],
      ['table', 'jicofo:8888', 'empty'],
      ['host', '10.0.0.10', 'down'],
      ['table', 'colibri-jvb1:9090', 'disabled'],
      ['host', '10.0.0.21', 'unknown'],
    ])
    expect(entries[1]).to.deep.include({availability: 100, checks: {total: 120, up: 120}, id: 1})
    expect(entries[3].checks).to.deep.equal({retries: 3, total: 120, up: 117})
    expect(entries[5].checks).to.deep.equal({error: 'http code mismatch', total: 120, up: 0})
    expect(entries[7]).to.deep.include({parent: 7}).and.not.have.property('availability')
  })

  it('show summary: relays, tables, hosts and redirects', () => {
    const entries = parseRelayctlTable(SUMMARY)
    expect(entries.filter((e) => e.type === 'relay').map((e) => `${e.name} ${e.status}`)).to.deep.equal(['www active', 'www6 disabled'])
    expect(entries.find((e) => e.type === 'redirect')).to.deep.include({name: 'media', status: 'active (using backup table)'})
  })

  it('show sessions: each session with its state, age and relay; running ones are what a reload cuts', () => {
    const sessions = parseRelaydSessions(SESSIONS)
    expect(sessions).to.deep.equal([
      {age: '00:01:02', from: '192.0.2.55:51234', id: '0:1', relay: 1, running: true, to: '10.0.0.10:5280'},
      {age: '00:00:03', from: '192.0.2.56:40000', id: '0:2', relay: 1, running: false, to: '10.0.0.2:80'},
      {age: '01:00:00', from: '[2001:db8::9]:51000', id: '1:3', relay: 2, running: true, to: '10.0.0.21:9090'},
    ])
  })

  it('declaredRelays lists the relays of a rendered relayd.conf (what a reload must bring back)', () => {
    const config = renderTarget(Inventory.parse(smallInventory()), 'relayd')
    const relays = declaredRelays(config)
    expect(relays.length).to.be.greaterThan(0)
    for (const name of relays) expect(config).to.match(new RegExp(`^relay "?${name}"?`, 'm'))
  })

  it('status on relayd joins relayctl show hosts with the inventory by table and address', async () => {
    const data = smallInventory()
    data.web = [{address: '10.0.0.2', name: 'web1'}]
    data.shards = [{jvbs: [{address: '10.0.0.21', id: 'jvb1'}], name: 'shard1', prosody: {address: '10.0.0.10'}}]
    data.probe = {stateFile: '/nonexistent/jproxy-probe-state.json'}
    const report = await proxyStatus({inventory: Inventory.parse(data), run: async () => ({code: 0, stderr: '', stdout: HOSTS}), target: 'relayd'})
    expect(report.rows.map((r) => [r.key, r.proxy, r.probe])).to.deep.equal([
      ['web/web1', 'up', 'never probed'],
      ['prosody/shard1', 'up', 'never probed'],
      ['jicofo/shard1', 'down (http code mismatch)', 'never probed'],
      ['jvb/shard1/jvb1', 'unknown', 'never probed'],
    ])
  })
})
