import {expect} from 'chai'
import {mkdtemp, rm} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {socketCommand} from '../../src/haproxy/socket.js'
import {parseShowTable, plainKey, tableHeader} from '../../src/haproxy/table.js'
import {type Stage, startStage, workers} from '../support/haproxy-stage.js'
import {fillRooms, roomKey} from '../support/room-table.js'

/** HAProxy 2.6.12: `show table` (headers only), then `show table be_prosody`, then two key lookups on one line, the second key absent. */
const HEADERS = '# table: be_prosody, type: string, size:200000, used:5\n\n'
const DUMP = `# table: be_prosody, type: string, size:200000, used:2
0x7fe1380479f0: key=a;b use=0 exp=300000 server_id=3 server_key=-
0x7fe138046f20: key=t/room0 use=1 exp=299988 server_id=1 server_key=-

`
const LOOKUPS = `# table: be_prosody, type: string, size:200000, used:5
0x7fe1380470b0: key=t/room1 use=0 exp=299991 server_id=2 server_key=-


`

describe('show table (as HAProxy 2.6.12 prints it)', function () {
  this.timeout(120_000)

  it('captured answers: the header\'s size and count, each entry\'s key, expiry and data; a key not found is an empty line', () => {
    expect(parseShowTable(HEADERS)).to.deep.equal([{entries: [], name: 'be_prosody', size: 200_000, type: 'string', used: 5}])
    expect(parseShowTable(DUMP)[0].entries).to.deep.equal([
      {data: {server_id: '3', server_key: '-'}, expiresInMs: 300_000, key: 'a;b'},
      {data: {server_id: '1', server_key: '-'}, expiresInMs: 299_988, key: 't/room0'},
    ])
    expect(parseShowTable(LOOKUPS).flatMap((b) => b.entries.map((e) => e.key))).to.deep.equal(['t/room1'])
    expect(tableHeader(HEADERS, 'be_prosody')?.used).to.equal(5)
    expect(tableHeader(HEADERS, 'other')).to.equal(undefined)
    expect(parseShowTable('\n\n')).to.deep.equal([])
  })

  it('a CLI error is not an answer; keys a CLI line cannot carry as they are', () => {
    expect(() => parseShowTable('No such table\n\n')).to.throw('not a "show table" answer')
    expect(() => parseShowTable('Can\'t find the target PID matching the prefix \'@!999999\'\n')).to.throw('not a "show table" answer')
    expect(plainKey('acme/room-1')).to.equal(true)
    for (const key of ['a;b', 'a b', 'a\\b', '']) expect(plainKey(key), key).to.equal(false)
  })

  describe('real HAProxy', () => {
    let dir: string
    let stage: Stage
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'jproxy-table-'))
      stage = await startStage(dir)
    })
    after(async () => {
      await stage?.haproxy.stop()
      await Promise.all([...(stage?.backends.values() ?? [])].map((b) => b.close()))
      await rm(dir, {force: true, recursive: true})
    })

    it('reads what set table stored, on the stats socket and on the master CLI by the worker\'s pid', async () => {
      await fillRooms(stage.socket, 500, [7, 9])
      const [block] = parseShowTable(await socketCommand(stage.socket, 'show table be_prosody'))
      expect(block).to.include({name: 'be_prosody', size: 200_000, type: 'string', used: 500})
      expect(block.entries).to.have.length(500)
      const room = block.entries.find((e) => e.key === roomKey(1))!
      expect(room.data.server_id).to.equal('9')
      expect(room.expiresInMs).to.be.within(1, 300_000)
      const {worker} = await workers(stage)
      expect(tableHeader(await socketCommand(stage.masterSocket, `@!${worker} show table`), 'be_prosody')?.used).to.equal(500)
      const found = parseShowTable(await socketCommand(stage.socket, `show table be_prosody key ${roomKey(3)};show table be_prosody key nope/none`))
      expect(found.flatMap((b) => b.entries.map((e) => e.key))).to.deep.equal([roomKey(3)])
    })
  })
})
