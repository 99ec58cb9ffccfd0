// End-to-end harness: a strict ocpp-rpc central system, the firmware in the DeviceScript
// simulator, and the bench control API on real sockets (ports chosen by the OS).
import assert from "node:assert/strict"
import { CentralSystem, BENCH_COMMISSIONING } from "../../tools/csms/csms.mjs"
import { Simulator } from "../../tools/sim/simulator.mjs"
import { serveControlApi } from "../../tools/sim/api.mjs"

let nextId = 1

/**
 * Commissioning the test central system applies after each boot (cards, no random delay).
 * Pass `csms: { configureOnBoot: null }` to test the seed's defaults themselves.
 */
export const TEST_CONFIG = BENCH_COMMISSIONING

/** Wait until fn() returns a truthy value (polled every 50 ms); returns that value. */
export async function waitFor(fn, { timeout = 20000, what = "condition" } = {}) {
    const t0 = Date.now()
    let last
    for (;;) {
        try {
            last = await fn()
            if (last) return last
        } catch (e) {
            last = e
        }
        if (Date.now() - t0 > timeout) throw new Error(`timed out after ${timeout} ms waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`)
        await new Promise(r => setTimeout(r, 50))
    }
}

export const sleep = ms => new Promise(r => setTimeout(r, ms))

/**
 * Start a central system and a simulated wallbox connected to it.
 * @param {object} [o]
 * @param {object} [o.csms] CentralSystem options (bootStatus, passwords, authorize...)
 * @param {object} [o.sim] extra Simulator options (key, flash, env, csms URL override)
 * @param {boolean} [o.noCsms] do not start a central system (o.sim.csms must be given)
 */
export async function startBench(o = {}) {
    const id = o.id ?? `CP-E2E-${process.pid}-${nextId++}`
    let csms
    if (!o.noCsms) {
        csms = new CentralSystem({ quiet: !process.env.E2E_VERBOSE, configureOnBoot: TEST_CONFIG, ...o.csms })
        await csms.listen(o.csmsPort ?? 0)
    }
    const vmLog = []
    const sim = new Simulator({
        csms: csms?.url,
        id,
        log: line => {
            vmLog.push(line)
            if (process.env.E2E_VERBOSE) console.log(`[fw ${id}] ${line}`)
        },
        ...o.sim,
    })
    await sim.start()
    const server = await serveControlApi(sim, { port: 0 })
    const base = `http://127.0.0.1:${server.address().port}`
    const api = async (method, path, body) => {
        const r = await fetch(base + path, {
            method,
            headers: { "content-type": "application/json" },
            body: body === undefined ? undefined : JSON.stringify(body),
        })
        const j = await r.json()
        if (!r.ok) throw Object.assign(new Error(`${method} ${path}: ${r.status} ${j.error}`), { status: r.status })
        return j
    }
    const bench = {
        id,
        csms,
        sim,
        base,
        api,
        vmLog,
        state: () => api("GET", "/api/state"),
        /** Wait for a state matching pred; returns it. */
        until: (pred, what, timeout) => waitFor(async () => {
            const s = await api("GET", "/api/state")
            return pred(s) ? s : false
        }, { what, timeout }),
        /** Wait for the n-th message (1-based) from the charge point with this action. */
        message: (action, n = 1, timeout) =>
            waitFor(() => bench.csms.messages({ action, dir: "in", type: 2, identity: id })[n - 1], { what: `${action} #${n}`, timeout }),
        /** Send a request to the charge point as the central system. */
        call: (action, payload) => bench.csms.call(id, action, payload),
        async stop() {
            await new Promise(r => server.close(r))
            await sim.stop()
            await bench.csms?.close()
        },
        /** Fail when the central system saw schema violations or malformed messages. */
        assertClean() {
            assert.deepEqual(bench.csms.errors.filter(e => e.identity === id), [], "the central system saw protocol errors")
        },
    }
    return bench
}

/** Boot and wait until the connector reports Available and the commissioning is applied. */
export async function bootToAvailable(b) {
    await b.until(s => s.ocppConnected && s.registration === "Accepted" && s.connectorStatus === "Available", "Available", 30000)
    if (b.csms.o.configureOnBoot) await waitFor(() => b.csms.configured[b.id], { what: "commissioning" })
    await waitFor(() => b.csms.messages({ action: "StatusNotification", dir: "in", identity: b.id }).find(m => m.payload.connectorId === 1), {
        what: "StatusNotification for connector 1",
    })
}
