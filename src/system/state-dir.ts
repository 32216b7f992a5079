/** Where jproxy keeps its own files (`apply.dir`) when the inventory does not say. */
export function defaultApplyDir(platform: NodeJS.Platform = process.platform): string {
  return platform === 'openbsd' ? '/var/db/jproxy' : '/var/lib/jproxy'
}
