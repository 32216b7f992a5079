import {mkdtemp} from 'node:fs/promises'
import {socketCommand} from './src/haproxy/socket.js'
import {startStage} from './test/apply/haproxy-harness.js'
const stage = await startStage(await mkdtemp('/tmp/dbg-'))
const s = (c: string) => socketCommand(stage.socket, c).then((t) => console.log(`> ${c}\n${t}`))
await s('show acl')
const rest = stage.backends.get('jvb1-rest')!.port, col = stage.backends.get('jvb1-colibri')!.port
await s(`add server be_colibri/jvb4 127.0.0.1:${col} check inter 1s rise 1 fall 1 port ${rest}`)
await s('enable health be_colibri/jvb4')
await s('show servers state be_colibri')
await s('set server be_colibri/jvb4 state drain')
await s('set server be_colibri/jvb4 state maint')
await s('del server be_colibri/jvb4')
await stage.haproxy.stop()
for (const b of stage.backends.values()) await b.close()
process.exit(0)
