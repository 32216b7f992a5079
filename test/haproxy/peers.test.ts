import {expect} from 'chai'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {type PeersSection, parseShowPeers} from '../../src/haproxy/peers.js'
import {socketCommand} from '../../src/haproxy/socket.js'
import {type Stage, startStage} from '../support/haproxy-stage.js'
import {freePorts} from '../support/loopback-backends.js'
import {waitFor} from '../support/wait.js'

/** HAProxy 2.6.12's answer on proxy a, its link to b just closed by a collision: ESTA is b's last status, no session runs. */
const CAPTURED = `0x55cf897cd4f0: [07/Dec/2026:19:56:42] id=jproxy disabled=0 flags=0x6811 resync_timeout=3s task_calls=5
  0x55cf897d0740: id=b(remote,inactive) addr=127.0.0.1:44281 last_status=ESTA last_hdshk=1s
        reconnect=3s heartbeat=1s confirm=0 tx_hbt=0 rx_hbt=0 no_hbt=0 new_conn=1 proto_err=0 coll=1
        flags=0x0
        shared tables:
          0x55cf89928e60 local_id=1 remote_id=1 flags=0x0 remote_data=0x80001
              last_acked=0 last_pushed=0 last_get=0 teaching_origin=0 update=0
              table:0x55cf89835bf0 id=be_prosody update=0 localupdate=0 commitupdate=0 refcnt=1
        Dictionary cache not dumped (use "show peers dict")
  0x55cf897cd6a0: id=a(local,inactive) addr=127.0.0.1:42589 last_status=NONE last_hdshk=<NEVER>
        reconnect=<NEVER> heartbeat=<NEVER> confirm=0 tx_hbt=0 rx_hbt=0 no_hbt=0 new_conn=0 proto_err=0 coll=0
        flags=0x0
        shared tables:
          0x55cf89928f10 local_id=1 remote_id=0 flags=0x0 remote_data=0x0
              last_acked=0 last_pushed=0 last_get=0 teaching_origin=0 update=0
              table:0x55cf89835bf0 id=be_prosody update=0 localupdate=0 commitupdate=0 refcnt=1
        Dictionary cache not dumped (use "show peers dict")

`

/** The same proxy a few seconds on, its resync over; a second section added around it, with a peer connecting. */
const CAPTURED_LATER = `0x557f8692c3f0: [07/Dec/2026:19:57:24] id=jproxy disabled=0 flags=0x6833 resync_timeout=<PAST> task_calls=10
  0x557f8692f640: id=b(remote,active) addr=127.0.0.1:42863 last_status=ESTA last_hdshk=6s
        reconnect=4s heartbeat=2s confirm=0 tx_hbt=2 rx_hbt=2 no_hbt=0 new_conn=1 proto_err=0 coll=1
        flags=0x20000200 appctx:0x7fd0d8046f80 st0=7 st1=0 task_calls=8 state=EST
        xprt=RAW src=127.0.0.1:60736 addr=127.0.0.1:35751
        remote_table:0x557f86a87d60 id=be_prosody local_id=1 remote_id=1
        last_local_table:0x557f86a87d60 id=be_prosody local_id=1 remote_id=1
  0x557f8692c5a0: id=a(local,inactive) addr=127.0.0.1:35751 last_status=NONE last_hdshk=<NEVER>
        reconnect=<NEVER> heartbeat=<NEVER> confirm=0 tx_hbt=0 rx_hbt=0 no_hbt=0 new_conn=0 proto_err=0 coll=0
        flags=0x0

0x557f8692c9a0: [07/Dec/2026:19:57:24] id=other disabled=0 flags=0x0 resync_timeout=2s task_calls=3
  0x557f8692cb40: id=c(remote,active) addr=[::1]:10001 last_status=CONN last_hdshk=2s
        reconnect=2s heartbeat=<NEVER> confirm=0 tx_hbt=2 rx_hbt=2 no_hbt=0 new_conn=2 proto_err=0 coll=1
        flags=0x0 appctx:0x7fd0d8046f80 st0=6 st1=0 task_calls=2 state=TAR
`

describe('show peers (as HAProxy 2.6.12 prints it)', function () {
  this.timeout(120_000)

  it('captured answers: each remote peer, its last status, established only with a running session; the resync flags', () => {
    expect(parseShowPeers(CAPTURED)).to.deep.equal([
      {name: 'jproxy', peers: [{address: '127.0.0.1:44281', connected: false, name: 'b', status: 'ESTA'}], resync: {local: true, remote: false}},
    ])
    expect(parseShowPeers(CAPTURED_LATER)).to.deep.equal([
      {name: 'jproxy', peers: [{address: '127.0.0.1:42863', connected: true, name: 'b', status: 'ESTA'}], resync: {local: true, remote: true}},
      {name: 'other', peers: [{address: '[::1]:10001', connected: false, name: 'c', status: 'CONN'}], resync: {local: false, remote: false}},
    ])
  })

  it('no peers section is an empty list; a CLI error is not an answer', () => {
    expect(parseShowPeers('')).to.deep.equal([])
    expect(parseShowPeers('\n')).to.deep.equal([])
    expect(() => parseShowPeers('Unknown command: \'show peer\'\n')).to.throw('not a "show peers" answer')
    expect(() => parseShowPeers('No such peers\n')).to.throw('not a "show peers" answer')
  })

  describe('two real HAProxy peered on loopback', () => {
    let root: string
    const stages: Stage[] = []
    let ports: number[]

    before(async () => {
      root = await mkdtemp(join(tmpdir(), 'jproxy-peers-'))
      ports = await freePorts(2)
      const peers = ['a', 'b'].map((name, i) => ({address: '127.0.0.1', name, port: ports[i]}))
      for (const name of ['a', 'b']) {
        stages.push(
          await startStage(await mkdtemp(join(root, `${name}-`)), (data) => {
            data.proxy.peers = peers
            data.targets.haproxy.localPeer = name
          }),
        )
      }
    })

    after(async () => {
      await Promise.all(stages.map((s) => s.haproxy.stop()))
      await Promise.all(stages.flatMap((s) => [...s.backends.values()].map((b) => b.close())))
      await rm(root, {force: true, recursive: true})
    })

    const answer = (stage: Stage) => socketCommand(stage.socket, 'show peers', 2000)

    it('each sees the other established, the local peer left out, and the resync done', async () => {
      for (const [i, stage] of stages.entries()) {
        const other = i === 0 ? 'b' : 'a'
        // HAProxy's peer reconnect and resync timeouts are 5 s each.
        const text = await waitFor(`${stage.dir}: the link to ${other} up and the resync over`, () => answer(stage), (t) => {
          const [section] = parseShowPeers(t)
          return Boolean(section?.peers[0]?.connected && section.resync.remote)
        }, {timeoutMs: 20_000})
        // Read against the raw text: the one remote peer's line as HAProxy printed it.
        const line = new RegExp(`^\\s+0x[\\da-f]+: id=${other}\\(remote,active\\) addr=127\\.0\\.0\\.1:${ports[i === 0 ? 1 : 0]} last_status=ESTA `, 'm')
        expect(text, text).to.match(line)
        const flags = Number.parseInt(/^0x[\da-f]+: \[[^\]]+\] id=jproxy disabled=0 flags=0x([\da-f]+) /m.exec(text)![1], 16)
        expect(flags & 0x3, text).to.equal(0x3)
        const expected: PeersSection[] = [
          {name: 'jproxy', peers: [{address: `127.0.0.1:${ports[i === 0 ? 1 : 0]}`, connected: true, name: other, status: 'ESTA'}], resync: {local: true, remote: true}},
        ]
        expect(parseShowPeers(text), text).to.deep.equal(expected)
      }
    })

    it('with b stopped, a\'s link to b is no longer established', async () => {
      await stages[1].haproxy.stop()
      const text = await waitFor('a to see b gone', () => answer(stages[0]), (t) => parseShowPeers(t)[0]?.peers[0]?.connected === false, {timeoutMs: 20_000})
      const [{peers}] = parseShowPeers(text)
      expect(peers).to.have.length(1)
      expect(peers[0].name).to.equal('b')
      // Not a running ESTA session: either no session (whatever the last status) or a new one still connecting.
      expect(text, text).not.to.match(/id=b\(remote,active\) \S+ last_status=ESTA /)
    })
  })
})
