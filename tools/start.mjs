// npm start: the main job — the firmware in the DeviceScript simulator against an
// embedded, schema-validating central system, with the bench control API.
//   npm start -- [--csms-port 9000] [--api-port 8090] [--id OWB-SIM-0001] [--flash <dir>] [--quiet]
import { parseArgs } from "node:util"
import { CentralSystem } from "./csms/csms.mjs"
import { Simulator } from "./sim/simulator.mjs"
import { serveControlApi } from "./sim/api.mjs"

const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
        "csms-port": { type: "string", default: "9000" },
        "api-port": { type: "string", default: "8090" },
        id: { type: "string", default: "OWB-SIM-0001" },
        flash: { type: "string", default: ".devicescript/flash-main" },
        quiet: { type: "boolean", default: false },
    },
})

// the CPO's commissioning policy: RFID cards instead of free vend, no UK random delay
const csms = new CentralSystem({ quiet: values.quiet, configureOnBoot: { FreevendEnabled: "false", RandomDelay: "600,2,0" } })
await csms.listen(Number(values["csms-port"]))
console.log(`central system: ${csms.url} (OCPP 1.6-J, strict schema validation)`)
const sim = new Simulator({
    csms: csms.url,
    id: values.id,
    flash: values.flash,
    log: values.quiet ? undefined : line => console.log(`[firmware] ${line}`),
})
sim.on("log", m => console.log(m))
console.log("starting the firmware in the DeviceScript simulator (building it first if needed)...")
await sim.start()
const apiPort = Number(values["api-port"])
await serveControlApi(sim, {
    port: apiPort,
    extra: {
        "GET /api/csms/log": () => ({ messages: csms.log.slice(-500) }),
        "POST /api/csms/call": async b => {
            try {
                return { result: await csms.call(b.identity || values.id, b.action, b.payload || {}) }
            } catch (e) {
                return { error: e.message, code: e.rpcErrorCode }
            }
        },
    },
})
console.log(`control API: http://127.0.0.1:${apiPort}/api/state  (see docs/simulator.md)`)
console.log(`try: node tools/demo-session.mjs --api http://127.0.0.1:${apiPort}`)
const stop = async () => {
    await sim.stop()
    await csms.close()
    process.exit(0)
}
process.on("SIGINT", stop)
process.on("SIGTERM", stop)
