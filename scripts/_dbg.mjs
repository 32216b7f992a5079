import {build} from 'esbuild'
await build({absWorkingDir:'/work/main',bundle:true,format:'cjs',platform:'node',target:'node20',minify:false,keepNames:false,
 banner: {js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;"}, define:{'import.meta.url':'__bundleUrl'},
 alias:{'@oclif/core':'./src/cli/oclif-shim.ts'},entryPoints:['src/cli/hot.ts'],outfile:'/tmp/prof/hot-debug.cjs'})
