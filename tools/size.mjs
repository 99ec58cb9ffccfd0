// npm run size: the firmware's budgets, measured.
//   - function code and string bytes of both images (ESP32 and simulator), from the
//     compiler's size table, against the verifier's 65 423-byte limit and our budget;
//   - the heap high-water mark of a charging session: there is no heap statistics API
//     in DeviceScript 2.16, and running out of memory is a panic, so the probe runs the
//     same session with the simulated board holding back R bytes of heap and searches
//     the largest R that survives; the session's peak use is the heap minus that R.
// Exits 1 when a figure is over its budget.
//   node tools/size.mjs [--no-heap] [--heap-step 1024]
import { parseArgs } from "node:util"
import { buildTarget, imageFigures } from "./build.mjs"
import { CentralSystem, BENCH_COMMISSIONING } from "./csms/csms.mjs"
import { Simulator } from "./sim/simulator.mjs"
import { fileURLToPath } from "node:url"

/** Verifier limit for function code + descriptors (devicescript-code-size.md). */
export const FUNCTION_LIMIT_BYTES = 65423
/** Budget for the whole feature set, leaving room below the hard limit. */
export const FUNCTION_BUDGET_BYTES = 53248
/** Short ASCII literals and names share a table with 16-bit offsets. */
export const STRING_LIMIT_BYTES = 65536
/** The GC heap of the ESP32 (JD_GC_KB = 64). */
export const HEAP_BYTES = 65536
/** Budget for the session's peak heap use: the rest is headroom for bursts. */
export const HEAP_BUDGET_BYTES = 49152

const pct = (v, of) => `${((100 * v) / of).toFixed(1)} %`

/** Code figures of both images, each with a line of text. */
export async function measureCode({ log = () => {} } = {}) {
    const out = []
    for (const name of ["esp32", "sim"]) {
        await buildTarget(name, { log })
        const f = imageFigures(name)
        const ok = f.functionBytes <= FUNCTION_BUDGET_BYTES && f.stringBytes <= STRING_LIMIT_BYTES
        out.push({
            name,
            ...f,
            ok,
            text:
                `${name.padEnd(5)} function code ${String(f.functionBytes).padStart(6)} B  ` +
                `(${pct(f.functionBytes, FUNCTION_LIMIT_BYTES)} of the ${FUNCTION_LIMIT_BYTES} B limit, budget ${FUNCTION_BUDGET_BYTES} B${ok ? "" : " EXCEEDED"})\n` +
                `${name.padEnd(5)} strings       ${String(f.stringBytes).padStart(6)} B  (${pct(f.stringBytes, STRING_LIMIT_BYTES)} of ${STRING_LIMIT_BYTES} B)`,
        })
    }
    return out
}

/** Run one charging session with `reserve` bytes held back; true when the VM never ran out of memory. */
async function sessionSurvives(reserve, verbose) {
    const csms = new CentralSystem({ quiet: true, configureOnBoot: BENCH_COMMISSIONING })
    await csms.listen(0)
    let oom = false
    const sim = new Simulator({
        csms: csms.url,
        id: "HEAP-PROBE",
        heapReserve: reserve,
        log: line => {
            if (verbose) console.log(`  [fw] ${line}`)
            if (/OutOfMemory|PANIC 60004/.test(line)) oom = true
        },
    })
    const deadline = Date.now() + 60000
    const until = async (pred, what) => {
        while (!oom && !pred()) {
            if (Date.now() > deadline) throw new Error(`heap probe: timed out waiting for ${what}`)
            await new Promise(r => setTimeout(r, 100))
        }
    }
    const seen = action => csms.messages({ action, dir: "in", type: 2 }).length
    const call = async (action, payload) => {
        // a firmware that ran out of memory drops the link: the call fails, oom tells why
        try {
            await csms.call("HEAP-PROBE", action, payload)
        } catch {}
    }
    try {
        await sim.start()
        await until(() => sim.state().connectorStatus === "Available" && csms.configured["HEAP-PROBE"], "Available")
        if (oom) return false
        await call("ChangeConfiguration", { key: "MeterValueSampleInterval", value: "4" })
        await call("GetConfiguration", {})
        sim.plug()
        sim.swipe("04A1B2C3D4E5F6")
        await until(() => seen("StartTransaction") >= 1, "StartTransaction")
        sim.charge(32)
        await until(() => seen("MeterValues") >= 2, "MeterValues")
        await call("GetConfiguration", {})
        await call("TriggerMessage", { requestedMessage: "StatusNotification" })
        sim.unplug()
        await until(() => seen("StopTransaction") >= 1, "StopTransaction")
        await new Promise(r => setTimeout(r, 1000))
        return !oom
    } catch (e) {
        if (oom) return false
        throw e
    } finally {
        await sim.stop()
        await csms.close()
    }
}

/** Heap high-water mark of a charging session, by bisection on the heap reserve. */
export async function measureHeap({ step = 1024, verbose = false } = {}) {
    let lo = 0 // survives
    let hi = HEAP_BYTES // does not
    if (!(await sessionSurvives(0, verbose))) throw new Error("the charging session fails even without a heap reserve")
    while (hi - lo > step) {
        const mid = Math.round((lo + hi) / 2 / 256) * 256
        const ok = await sessionSurvives(mid, verbose)
        if (verbose) console.log(`  reserve ${mid} B: ${ok ? "ok" : "out of memory"}`)
        if (ok) lo = mid
        else hi = mid
    }
    const peak = HEAP_BYTES - lo
    const ok = peak <= HEAP_BUDGET_BYTES
    return {
        peak,
        ok,
        text:
            `heap  charging session peak ${String(peak).padStart(6)} B  (${pct(peak, HEAP_BYTES)} of the ${HEAP_BYTES} B heap, ` +
            `budget ${HEAP_BUDGET_BYTES} B${ok ? "" : " EXCEEDED"}; the session survives with ${lo} B held back, not with ${hi} B)`,
    }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
    const { values } = parseArgs({
        args: process.argv.slice(2),
        options: {
            "no-heap": { type: "boolean", default: false },
            "heap-step": { type: "string", default: "1024" },
            verbose: { type: "boolean", default: false },
        },
    })
    let over = false
    for (const f of await measureCode({ log: m => console.log(m) })) {
        console.log(f.text)
        over ||= !f.ok
    }
    if (!values["no-heap"]) {
        const h = await measureHeap({ step: Number(values["heap-step"]), verbose: values.verbose })
        console.log(h.text)
        over ||= !h.ok
    }
    process.exit(over ? 1 : 0)
}
