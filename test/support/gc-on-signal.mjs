// Preloaded into a fleet agent by the memory test and the fleet bench (node --expose-gc --import
// FILE bin/run.js fleet agent ...). V8 grows its heap lazily between full collections, so the raw
// RSS of a busy agent swings by tens of MiB with the moment it is read. On SIGUSR2 this collects
// all garbage twice, a second apart (on Node 20 the second collection is the one that hands the
// old-space pages the first emptied back), waits another second (pages are unmapped off the main
// thread), then writes `gc-on-signal: N` on stderr: RSS read after that line is what the agent keeps.
let collections = 0
process.on('SIGUSR2', () => {
  globalThis.gc()
  setTimeout(() => {
    globalThis.gc()
    setTimeout(() => process.stderr.write(`gc-on-signal: ${++collections}\n`), 1000).unref()
  }, 1000).unref()
})
