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

/** Shortest interval between two state events of GET /api/events, ms. */
export const EVENT_STATE_MS = 250

function sendEvent(res, event, data) {
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
}

/**
 * GET /api/events: server-sent events. "phase" (building, booting, connecting, online,
 * off) and "state" (as GET /api/state) when they change, at most every 250 ms; "ocpp"
 * (an entry of the central system's log) for every message when there is an embedded
 * central system; "progress" lines while the firmware builds.
 */
function serveEvents(sim, req, res, { csms } = {}) {
    res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-store",
        connection: "keep-alive",
        "x-accel-buffering": "no",
    })
    res.write("retry: 2000\n\n")
    sendEvent(res, "hello", { id: sim.o?.id ?? null, csms: !!csms, phase: sim.phase() })
    let lastState = ""
    let lastPhase = sim.phase()
    let lastSent = 0
    let pending = null
    const push = () => {
        pending = null
        const phase = sim.phase()
        if (phase !== lastPhase) sendEvent(res, "phase", { phase })
        lastPhase = phase
        if (sim.starting) return
        const text = JSON.stringify(sim.state())
        if (text === lastState) return
        lastState = text
        lastSent = Date.now()
        res.write(`event: state\ndata: ${text}\n\n`)
    }
    // a firmware or contactor change goes out at once unless the last event was < 250 ms ago
    const soon = () => {
        if (pending) return
        pending = setTimeout(push, Math.max(0, lastSent + EVENT_STATE_MS - Date.now()))
    }
    const onOcpp = entry => sendEvent(res, "ocpp", entry)
    const onLog = line => sendEvent(res, "progress", { line })
    const timer = setInterval(soon, EVENT_STATE_MS)
    const keepAlive = setInterval(() => res.write(": keep-alive\n\n"), 15000)
    sim.on("status", soon)
    sim.on("contactor", soon)
    sim.on("phase", soon)
    sim.on("log", onLog)
    csms?.on("message", onOcpp)
    push()
    req.on("close", () => {
        clearInterval(timer)
        clearInterval(keepAlive)
        clearTimeout(pending)
        sim.off("status", soon)
        sim.off("contactor", soon)
        sim.off("phase", soon)
        sim.off("log", onLog)
        csms?.off("message", onOcpp)
    })
}

/**
 * Routes of the control API; `extra` may add routes ("METHOD /path" → handler(body, req, res)).
 * A handler returns the JSON to send (default: the new state) or throws {status, message}.
 */
export function controlRoutes(sim, { csms } = {}) {
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
            if (b.felica !== undefined) {
                const f = b.felica ?? {}
                const hex = (v, min, max) => typeof v === "string" && v.length >= 2 * min && v.length <= 2 * max && /^([0-9a-fA-F]{2})+$/.test(v)
                if (b.uid !== undefined || !hex(f.idm, 8, 8) || !hex(f.dataFormatCode, 2, 2) || !hex(f.eneKeyData, 1, 16))
                    throw bad("felica must be {idm: 8 bytes, dataFormatCode: 2 bytes, eneKeyData: 1 to 16 bytes} of hex, without uid")
                return sim.swipe(undefined, f)
            }
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
        "POST /api/network/drop": () => sim.networkDrop(),
        "POST /api/network/restore": () => sim.networkRestore(),
        "GET /api/events": (b, req, res) => serveEvents(sim, req, res, { csms }),
    }
}

/** Routes that answer while the simulator is still starting (the rest answer 503). */
const WHILE_STARTING = new Set(["GET /api/events", "GET /api/log", "GET /api/csms/log"])

/**
 * Serve the control API (and any extra routes) on 127.0.0.1:port. It may be served before
 * sim.start() finished: until then the routes of the simulator answer 503 {"error": "starting"}.
 * `csms`: the embedded central system, whose messages GET /api/events streams.
 */
export async function serveControlApi(sim, { port = 8090, extra = {}, fallback, csms } = {}) {
    const routes = { ...controlRoutes(sim, { csms }), ...extra }
    const server = http.createServer(async (req, res) => {
        const url = new URL(req.url, "http://localhost")
        const key = `${req.method} ${url.pathname}`
        const handler = routes[key]
        if (!handler) {
            if (fallback && (await fallback(req, res, url))) return
            res.writeHead(404, { "content-type": "application/json" })
            return res.end(JSON.stringify({ error: "not found" }))
        }
        if (sim.starting && !WHILE_STARTING.has(key)) {
            res.writeHead(503, { "content-type": "application/json", "retry-after": "1" })
            return res.end(JSON.stringify({ error: "starting", phase: sim.phase() }))
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
