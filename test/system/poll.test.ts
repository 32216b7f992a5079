import {expect} from 'chai'

import {pollUntil} from '../../src/system/poll.js'

describe('pollUntil', () => {
  it('reads until the value is done, reporting each one', async () => {
    const values = [3, 2, 0, 5]
    const heard: number[] = []
    const polled = await pollUntil(async () => values.shift()!, (n) => n === 0, {intervalMs: 1, onProgress: (n) => heard.push(n), timeoutMs: 60_000})
    expect(polled).to.include({done: true, value: 0})
    expect(heard).to.deep.equal([3, 2, 0])
  })

  it('gives up with the last value when the next read would come after the timeout', async () => {
    let reads = 0
    const polled = await pollUntil(async () => ++reads, () => false, {intervalMs: 40, timeoutMs: 100})
    expect(polled.done).to.equal(false)
    expect(polled.value).to.equal(reads)
    // Reads at about 0, 40 and 80 ms; the one at 120 ms would pass the timeout. A slow machine reads fewer.
    expect(reads).to.be.within(1, 3)
    expect(polled.waitedMs + 40).to.be.above(100)
  })
})
