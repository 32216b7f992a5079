import {expect} from 'chai'
import {isIP} from 'node:net'

import {ipVersion} from '../../src/system/ip.js'
import {seededRandom} from '../relayd/config-generator.js'

// A new seed each run widens the search; JPROXY_SEED=<n> replays a failing run.
const SEED = Number(process.env.JPROXY_SEED ?? Math.floor(Math.random() * 2 ** 31))

describe(`ipVersion agrees with node:net isIP (seed ${SEED}; replay with JPROXY_SEED=${SEED})`, () => {
  it('on the literals an inventory holds and the near misses around them', () => {
    const cases = [
      '10.0.0.1', '0.0.0.0', '255.255.255.255', '256.1.1.1', '10.0.0.01', '10.0.0', '10.0.0.1.', '1.2.3.4.5', '',
      '::', '::1', '1::', '2001:db8::53', 'fe80::1%eth0', 'fe80::1%', 'fe80::1%e%0', '::ffff:10.0.0.1', '::10.0.0.1',
      '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7', '1:2:3:4:5:6:1.2.3.4',
      '1:2:3:4:5:6:7:1.2.3.4', '1:2:3:4:5:6::1.2.3.4', '1:2:3:4:5::1.2.3.4', '1.2.3.4::', '1.2.3.4::1', ':::', ':::1',
      '1:::2', '1::2::3', ':1:2:3:4:5:6:7:8', '12345::1', 'g::1', '[::1]', 'meet.example.org', '１.2.3.4',
    ]
    for (const value of cases) expect(ipVersion(value), value).to.equal(isIP(value))
  })

  it('on 100,000 random strings over the characters of IP literals', () => {
    const random = seededRandom(SEED)
    const alphabet = '0123456789abcdefABCDEFg:.%-'
    const pick = (n: number) => Math.floor(random() * n)
    for (let i = 0; i < 100_000; i++) {
      const value = Array.from({length: pick(24)}, () => alphabet[pick(alphabet.length)]).join('')
      expect(ipVersion(value), JSON.stringify(value)).to.equal(isIP(value))
    }
  })

  it('on 100,000 generated addresses: compressed, with IPv4 tails and zones, some broken', () => {
    const random = seededRandom(SEED + 1)
    const pick = (n: number) => Math.floor(random() * n)
    const v4 = () => Array.from({length: 4}, () => String(pick(300))).join('.')
    const group = () => pick(0x1_00_00).toString(16).slice(0, 1 + pick(5))
    for (let i = 0; i < 100_000; i++) {
      const groups = Array.from({length: 1 + pick(9)}, group)
      if (pick(3) === 0) groups.push(v4())
      let value = groups.join(':')
      if (pick(2) === 0) {
        const at = pick(value.length + 1)
        value = `${value.slice(0, at)}::${value.slice(at)}`
      }
      if (pick(5) === 0) value += `%${['eth0', '', 'en-0.1:2', 'a%b'][pick(4)]}`
      if (pick(4) === 0) value = v4()
      expect(ipVersion(value), value).to.equal(isIP(value))
    }
  })
})
