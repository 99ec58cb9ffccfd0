// npm start: the main job — the firmware in the DeviceScript simulator against an
// embedded, schema-validating central system, with the bench control API and the web
// bench (http://127.0.0.1:8090/).
//   npm start -- [--csms-port 9000] [--api-port 8090] [--id OWB-SIM-0001] [--flash <dir>] [--quiet]
import { parseArgs } from "node:util"
import { fileURLToPath } from "node:url"
import { CentralSystem } from "./csms/csms.mjs"
import { Simulator } from "./sim/simulator.mjs"
import { serveControlApi } from "./sim/api.mjs"
import { benchFallback } from "./bench/serve.mjs"

/** The CPO's commissioning policy: RFID cards instead of free vend, no UK random delay. */
export const COMMISSIONING = { FreevendEnabled: "false", RandomDelay: "600,2,0" }

/**
 * Start the central system, the web bench with the control API (at once, so that the page
 * shows the build and boot), then the firmware in the simulator. Ports 0: chosen by the OS.
 * Resolves once the simulator started (the firmware then boots and connects).
 * @returns {Promise<{csms: CentralSystem, sim: Simulator, server: import("node:http").Server, url: string, stop: () => Promise<void>}>}
 */
export async function startMain({ csmsPort = 9000, apiPort = 8090, id = "OWB-SIM-0001", flash, quiet = false, log = console.log } = {}) {
    const csms = new CentralSystem({ quiet, configureOnBoot: COMMISSIONING })
    await csms.listen(csmsPort)
    if (!quiet) log(`central system: ${csms.url} (OCPP 1.6-J, strict schema validation)`)
    const sim = new Simulator({
        csms: csms.url,
        id,
        flash,
        log: quiet ? undefined : line => log(`[firmware] ${line}`),
    })
    if (!quiet) sim.on("log", m => log(m))
    const started = sim.start()
    started.catch(() => {})
    let server
    try {
        server = await serveControlApi(sim, {
            port: apiPort,
            csms,
            fallback: benchFallback,
            extra: {
                "GET /api/csms/log": () => ({ messages: csms.log.slice(-500) }),
                "POST /api/csms/call": async b => {
                    try {
                        return { result: await csms.call(b.identity || id, b.action, b.payload || {}) }
                    } catch (e) {
                        return { error: e.message, code: e.rpcErrorCode }
                    }
                },
            },
        })
    } catch (e) {
        await started.catch(() => {})
        await sim.stop().catch(() => {})
        await csms.close()
        throw e
    }
    const url = `http://127.0.0.1:${server.address().port}/`
    if (!quiet) log(`web bench: ${url}  (building and starting the firmware...)`)
    const stop = async () => {
        server.closeAllConnections?.()
        await new Promise(r => server.close(r))
        await started.catch(() => {})
        await sim.stop()
        await csms.close()
    }
    try {
        await started
    } catch (e) {
        await stop().catch(() => {})
        throw e
    }
    return { csms, sim, server, url, stop }
}

async function main(argv) {
    const { values } = parseArgs({
        args: argv,
        options: {
            "csms-port": { type: "string", default: "9000" },
            "api-port": { type: "string", default: "8090" },
            id: { type: "string", default: "OWB-SIM-0001" },
            flash: { type: "string", default: ".devicescript/flash-main" },
            quiet: { type: "boolean", default: false },
        },
    })
    const main = await startMain({
        csmsPort: Number(values["csms-port"]),
        apiPort: Number(values["api-port"]),
        id: values.id,
        flash: values.flash,
        quiet: values.quiet,
    })
    const api = main.url.replace(/\/$/, "")
    console.log(`web bench: ${main.url}`)
    console.log(`control API: ${api}/api/state  (see docs/simulator.md)`)
    console.log(`try: node tools/demo-session.mjs --api ${api}`)
    const stop = async () => {
        await main.stop()
        process.exit(0)
    }
    process.on("SIGINT", stop)
    process.on("SIGTERM", stop)
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
    main(process.argv.slice(2)).catch(e => {
        console.error(e.message)
        process.exit(1)
    })
}
