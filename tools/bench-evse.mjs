// Benchmark of the EVSE control path in the simulator: the time from a pilot change
// to the contactor opening (IEC 61851-1 asks ≤ 100 ms) and S0 pulses lost, first with
// the link quiet, then while the central system keeps the firmware busy.
//   node tools/bench-evse.mjs [--trials 5] [--seconds 20] [--imp-per-kwh 10000]
// At 32 A on three phases (22 kW) and 10 000 imp/kWh the meter pulses at 61 Hz.
import { parseArgs } from "node:util"
import { CentralSystem, BENCH_COMMISSIONING } from "./csms/csms.mjs"
import { sleep, until } from "./wait.mjs"
import { Simulator } from "./sim/simulator.mjs"

const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
        trials: { type: "string", default: "5" },
        seconds: { type: "string", default: "20" },
        "imp-per-kwh": { type: "string", default: "10000" },
    },
})
const TRIALS = Number(values.trials)
const SECONDS = Number(values.seconds)
const ID = "BENCH-EVSE"


const csms = new CentralSystem({ quiet: true, configureOnBoot: BENCH_COMMISSIONING })
await csms.listen(0)
const sim = new Simulator({ csms: csms.url, id: ID, impPerKwh: Number(values["imp-per-kwh"]) })
await sim.start()
await until(() => sim.state().connectorStatus === "Available" && csms.configured[ID], "Available", 60000)
sim.charge(32)
sim.swipe("04A1B2C3")
await until(() => sim.state().contactorClosed, "charging")

/** Keep the firmware busy: back-to-back GetConfiguration (all keys) and triggered MeterValues. */
let loading = false
let loadCalls = 0
async function load() {
    while (loading) {
        try {
            await csms.call(ID, "GetConfiguration", {})
            await csms.call(ID, "TriggerMessage", { requestedMessage: "MeterValues", connectorId: 1 })
            loadCalls += 2
        } catch {}
    }
}

async function latencies() {
    const out = []
    sim.charge(32)
    await until(() => sim.state().contactorClosed, "charging", 15000)
    for (let i = 0; i < TRIALS; i++) {
        sim.pause()
        await until(() => !sim.state().contactorClosed, "open")
        out.push(sim.contactorLatencyMs())
        sim.charge(32)
        await until(() => sim.state().contactorClosed, "closed again")
    }
    return out
}

/** Pulses emitted by the meter and counted by the firmware over SECONDS of charging. */
async function pulses() {
    // start and end with no current, so the lagging status line has settled on both ends
    sim.pause()
    await sleep(1500)
    const s0 = sim.state()
    sim.charge(32)
    await until(() => sim.state().contactorClosed, "charging", 15000)
    await sleep(SECONDS * 1000)
    const emittedWhileCharging = sim.state().s0PulsesEmitted - s0.s0PulsesEmitted
    sim.pause()
    await sleep(1500)
    const s1 = sim.state()
    const emitted = s1.s0PulsesEmitted - s0.s0PulsesEmitted
    const counted = s1.s0PulsesCounted - s0.s0PulsesCounted
    return { emitted, counted, lost: emitted - counted, hz: emittedWhileCharging / SECONDS }
}

const fmt = l => `worst ${Math.max(...l).toFixed(1)} ms, mean ${(l.reduce((a, b) => a + b, 0) / l.length).toFixed(1)} ms over ${l.length}`
const quiet = { latency: await latencies(), pulses: await pulses() }
loading = true
const loader = load()
const busy = { latency: await latencies(), pulses: await pulses() }
loading = false
await loader
console.log(`pilot change → contactor open, link quiet: ${fmt(quiet.latency)}`)
console.log(`pilot change → contactor open, under load: ${fmt(busy.latency)} (${loadCalls} CSMS calls answered)`)
for (const [name, p] of [
    ["link quiet", quiet.pulses],
    ["under load", busy.pulses],
])
    console.log(`S0 at ${p.hz.toFixed(1)} Hz, ${name}: ${p.emitted} pulses emitted, ${p.counted} counted, ${p.lost} lost`)
await sim.stop()
await csms.close()
