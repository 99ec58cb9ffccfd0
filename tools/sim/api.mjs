// The bench control API of the simulator (contract: docs/simulator.md).
import http from "node:http"

const HEX_UID = /^([0-9a-fA-F]{2}){4,10}$/

function parseCode(code) {
    const n = typeof code === "number" ? code : /^0x[0-9a-f]{1,4}$/i.test(code ?? "") ? parseInt(code, 16) : NaN
    // one or more bits of the error table (0x0002 .. 0x8000)
    return Number.isInteger(n) && n > 0 && n <= 0xffff && (n & 1) === 0 ? n : NaN
}

async function readJson(req) {
    let body = ""
    for await (const chunk of req) {
        body += chunk
        if (body.length > 65536) throw new Error("body too large")
    }
    if (!body.trim()) return {}
    return JSON.parse(body)
}

/**
 * Routes of the control API; `extra` may add routes ("METHOD /path" → handler(body, req, res)).
 * A handler returns the JSON to send (default: the new state) or throws {status, message}.
 */
export function controlRoutes(sim) {
    const bad = message => Object.assign(new Error(message), { status: 400 })
    const flag = (b, name, dflt) => {
        const v = b[name] ?? dflt
        if (typeof v !== "boolean") throw bad(`${name} must be true or false`)
        return v
    }
    return {
        "GET /api/state": () => sim.state(),
        "POST /api/ev/plug": () => sim.plug(),
        "POST /api/ev/unplug": () => sim.unplug(),
        "POST /api/ev/charge": b => {
            const a = b.maxCurrentA ?? 16
            if (!(typeof a === "number" && a >= 0 && a <= 80)) throw bad("maxCurrentA must be a number of amps, 0-80")
            sim.charge(a, flag(b, "ignoresPwmOff", false))
        },
        "POST /api/ev/pause": () => sim.pause(),
        "POST /api/ev/ventilation": b => sim.ventilation(flag(b, "on", true)),
        "POST /api/ev/diode": b => sim.diodeFault(flag(b, "fault", true)),
        "POST /api/ev/short": b => sim.shortToPe(flag(b, "short", true)),
        "POST /api/contactor/weld": b => sim.weld(flag(b, "welded", true)),
        "POST /api/rfid": b => {
            if (typeof b.uid !== "string" || !HEX_UID.test(b.uid)) throw bad("uid must be 4 to 10 bytes of hex, e.g. 04A1B2C3")
            sim.swipe(b.uid)
        },
        "POST /api/fault": b => {
            const bits = parseCode(b.code)
            if (isNaN(bits)) throw bad('code must be error-table bits such as "0x0002"')
            sim.setFault(bits)
        },
        "DELETE /api/fault": b => {
            if (b.code === undefined) return sim.clearFault()
            const bits = parseCode(b.code)
            if (isNaN(bits)) throw bad('code must be error-table bits such as "0x0002"')
            sim.clearFault(bits)
        },
        "POST /api/power/cut": async () => await sim.powerCut(),
        "POST /api/power/on": () => sim.powerOn(),
        "GET /api/log": () => ({ lines: sim.vmLog.slice(-500) }),
    }
}

/** Serve the control API (and any extra routes) on 127.0.0.1:port. */
export async function serveControlApi(sim, { port = 8090, extra = {}, fallback } = {}) {
    const routes = { ...controlRoutes(sim), ...extra }
    const server = http.createServer(async (req, res) => {
        const url = new URL(req.url, "http://localhost")
        const handler = routes[`${req.method} ${url.pathname}`]
        if (!handler) {
            if (fallback && (await fallback(req, res, url))) return
            res.writeHead(404, { "content-type": "application/json" })
            return res.end(JSON.stringify({ error: "not found" }))
        }
        try {
            const body = req.method === "GET" ? {} : await readJson(req)
            let out = await handler(body, req, res, url)
            if (res.headersSent) return
            if (out === undefined) out = sim.state()
            res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" })
            res.end(JSON.stringify(out))
        } catch (e) {
            if (res.headersSent) return res.end()
            res.writeHead(e.status || (e instanceof SyntaxError ? 400 : 500), { "content-type": "application/json" })
            res.end(JSON.stringify({ error: e.message }))
        }
    })
    await new Promise((resolve, reject) => {
        server.once("error", reject)
        server.listen(port, "127.0.0.1", resolve)
    })
    return server
}
