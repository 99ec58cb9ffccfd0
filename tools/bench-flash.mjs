// Flash wear, measured: records written (and bytes appended to the settings log) at
// boot, per charging session, per journalled MeterValues and per 100 Wh, then a typical
// day of one boot, two sessions and 30 kWh. The settings log is a 16 KiB region on the
// ESP32 (A/B: one erase of the other region per compaction).
//   node tools/bench-flash.mjs [--seconds 40]
import { parseArgs } from "node:util"
import { CentralSystem, BENCH_COMMISSIONING } from "./csms/csms.mjs"
import { sleep, until } from "./wait.mjs"
import { Simulator } from "./sim/simulator.mjs"

const { values } = parseArgs({ args: process.argv.slice(2), options: { seconds: { type: "string", default: "40" } } })
const ID = "BENCH-FLASH"
const SAMPLE_S = 5
/** A day of the model: 30 kWh in two sessions at 7.4 kW, MeterValueSampleInterval 30 s. */
const DAY_WH = 30000
const DAY_SAMPLES = Math.round((DAY_WH / 7400) * 3600 / 30)

const csms = new CentralSystem({ quiet: true, configureOnBoot: { ...BENCH_COMMISSIONING, MeterValueSampleInterval: String(SAMPLE_S) } })
await csms.listen(0)
// a commissioned charger: the configuration is in flash before the day starts
const sim = new Simulator({ csms: csms.url, id: ID })
await sim.start()
await until(() => csms.configured[ID] && sim.state().connectorStatus === "Available", "commissioning")
await sim.powerCut()
sim.powerOn()
await until(() => sim.state().connectorStatus === "Available" && csms.configured[ID], "boot")
await sleep(1000)
const boot = sim.state()

async function session(uid) {
    const before = sim.state()
    const mvBefore = csms.messages({ action: "MeterValues", dir: "in", identity: ID }).length
    sim.charge(32)
    sim.swipe(uid)
    await until(() => sim.state().contactorClosed, "charging")
    await sleep(Number(values.seconds) * 1000)
    sim.unplug()
    await until(() => sim.state().transactionId === null, "session end")
    await sleep(1500)
    const after = sim.state()
    return {
        records: after.flashWrites - before.flashWrites,
        bytes: after.flashBytes - before.flashBytes,
        wh: after.energyWh - before.energyWh,
        meterValues: csms.messages({ action: "MeterValues", dir: "in", identity: ID }).length - mvBefore,
    }
}

const sampled = await session("04A1B2C3")
let s = sim.state()
await csms.call(ID, "ChangeConfiguration", { key: "MeterValueSampleInterval", value: "0" })
await sleep(500)
const configCost = { records: sim.state().flashWrites - s.flashWrites, bytes: sim.state().flashBytes - s.flashBytes }
const plain = await session("04A1B2C4")
await sim.stop()
await csms.close()

// the energy register (8 bytes + CRC: 40 B) every 100 Wh: scale the plain session's energy writes to the sampled one
const ENERGY_RECORD_B = 40
const energyWrites = wh => Math.floor(wh / 100)
const perSample = {
    records: (sampled.records - energyWrites(sampled.wh) - (plain.records - energyWrites(plain.wh))) / sampled.meterValues,
    bytes: (sampled.bytes - energyWrites(sampled.wh) * ENERGY_RECORD_B - (plain.bytes - energyWrites(plain.wh) * ENERGY_RECORD_B)) / sampled.meterValues,
}
const fixed = { records: plain.records - energyWrites(plain.wh), bytes: plain.bytes - energyWrites(plain.wh) * ENERGY_RECORD_B }
console.log(`boot: ${boot.flashWrites} records, ${boot.flashBytes} B`)
console.log(`a session without sampled values: ${fixed.records} records, ${fixed.bytes} B (plus the register every 100 Wh, ${ENERGY_RECORD_B} B)`)
console.log(`a journalled MeterValues (written, then deleted after its answer; head pointer every 16): ${perSample.records.toFixed(2)} records, ${perSample.bytes.toFixed(0)} B ` +
    `(${sampled.meterValues} in a ${values.seconds} s session at ${SAMPLE_S} s)`)
console.log(`(a ChangeConfiguration: ${configCost.records} records, ${configCost.bytes} B)`)
const day = {
    records: boot.flashWrites + 2 * fixed.records + DAY_SAMPLES * perSample.records + energyWrites(DAY_WH),
    bytes: boot.flashBytes + 2 * fixed.bytes + DAY_SAMPLES * perSample.bytes + energyWrites(DAY_WH) * ENERGY_RECORD_B,
}
console.log(`typical day (1 boot, 2 sessions, 30 kWh at 7.4 kW = ${DAY_SAMPLES} sampled values at 30 s): ${Math.round(day.records)} records, ${Math.round(day.bytes)} B appended ` +
    `= ${(day.bytes / 16384).toFixed(2)} compactions of the ESP32's 16 KiB region, each region page erased every ${((2 * 16384) / day.bytes).toFixed(2)} days ` +
    `(~${Math.round((365 * day.bytes) / (2 * 16384))} erases a year against 100 000 cycles)`)
