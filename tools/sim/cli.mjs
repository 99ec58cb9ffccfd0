// npm run sim -- --csms <ws-or-wss-url> --id <ChargePointId> [--key <AuthorizationKey>]
//                [--api-port <port>] [--flash <dir>] [--imp-per-kwh <n>] [--quiet]
// Starts the firmware in the DeviceScript simulator against that central system and
// serves the bench control API (docs/simulator.md). Ctrl-C (or kill) is a power cut.
import { parseArgs } from "node:util"
import { Simulator } from "./simulator.mjs"
import { serveControlApi } from "./api.mjs"
import { benchFallback } from "../bench/serve.mjs"

const USAGE =
    "usage: npm run sim -- --csms <ws://host:port/path> --id <ChargePointId> [--key <AuthorizationKey>] " +
    "[--api-port 8090] [--flash <dir>] [--imp-per-kwh 1000] [--socket] [--quiet]"

export async function main(argv) {
    const { values } = parseArgs({
        args: argv,
        options: {
            csms: { type: "string" },
            id: { type: "string" },
            key: { type: "string", default: "" },
            "api-port": { type: "string", default: "8090" },
            flash: { type: "string" },
            "imp-per-kwh": { type: "string", default: "1000" },
            socket: { type: "boolean", default: false },
            quiet: { type: "boolean", default: false },
            help: { type: "boolean", default: false },
        },
    })
    if (values.help || !values.csms || !values.id) {
        console.log(USAGE)
        process.exit(values.help ? 0 : 2)
    }
    if (!/^wss?:\/\//.test(values.csms)) {
        console.error("--csms must be a ws:// or wss:// URL")
        process.exit(2)
    }
    const sim = new Simulator({
        csms: values.csms,
        id: values.id,
        key: values.key,
        flash: values.flash,
        impPerKwh: Number(values["imp-per-kwh"]),
        socket: values.socket,
        log: values.quiet ? undefined : line => console.log(`[firmware] ${line}`),
    })
    sim.on("log", m => console.log(m))
    // the API and the web bench first: the page shows the build and the boot
    const started = sim.start()
    started.catch(() => {})
    const port = Number(values["api-port"])
    await serveControlApi(sim, { port, fallback: benchFallback })
    console.log(`web bench: http://127.0.0.1:${port}/  (building and starting the firmware...)`)
    await started
    console.log(`simulator: firmware running as "${values.id}" against ${values.csms}`)
    console.log(`control API: http://127.0.0.1:${port}/api/state`)
    const stop = async () => {
        await sim.stop()
        process.exit(0)
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
    return sim
}

main(process.argv.slice(2)).catch(e => {
    console.error(e.message)
    process.exit(1)
})
