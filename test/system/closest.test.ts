import {expect} from 'chai'

import {closest, editDistance} from '../../src/system/closest.js'

describe('closest (did you mean)', () => {
  it('counts insertions, deletions, substitutions and swapped neighbours as one edit each', () => {
    expect(editDistance('health', 'helth')).to.equal(1)
    expect(editDistance('port', 'prot')).to.equal(1)
    expect(editDistance('jvbs', 'jvb')).to.equal(1)
    expect(editDistance('abc', 'xyz')).to.equal(3)
  })

  it('suggests the one close candidate, and nothing when none is close or two are as close', () => {
    expect(closest('helth', ['health', 'probe', 'dns'])).to.equal('health')
    expect(closest('Domian', ['domain', 'dns'])).to.equal('domain')
    expect(closest('colour', ['health', 'probe'])).to.equal(undefined)
    expect(closest('local', ['local0', 'local1'])).to.equal(undefined)
  })
})
