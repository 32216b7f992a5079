// Preloaded into a benchmarked process (node --import): samples open file descriptors and, at
// exit, prints peak RSS and the most descriptors seen as one JSON line on stderr.
import {readdirSync} from 'node:fs'

let peakFds = 0
const sample = () => {
  try {
    peakFds = Math.max(peakFds, readdirSync('/proc/self/fd').length)
  } catch {}
}

setInterval(sample, 20).unref()
process.on('exit', () => {
  sample()
  process.stderr.write(`\nUSAGE ${JSON.stringify({maxRssKiB: process.resourceUsage().maxRSS, peakFds})}\n`)
})
