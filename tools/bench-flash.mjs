// Flash wear of a typical day, measured: records written (and bytes appended to the
// settings log) at boot, per charging session, and per 100 Wh of energy, then a day of
// one boot, two sessions and 30 kWh. The settings log is a 16 KiB region (A/B, one
// erase of the other region per compaction).
//   node tools/bench-flash.mjs [--seconds 40]
import { parseArgs } from "node:util"
import { CentralSystem, BENCH_COMMISSIONING } from "./csms/csms.mjs"
import { sleep, until } from "./wait.mjs"
import { Simulator } from "./sim/simulator.mjs"

const { values } = parseArgs({ args: process.argv.slice(2), options: { seconds: { type: "string", default: "40" } } })
const ID = "BENCH-FLASH"

const csms = new CentralSystem({ quiet: true, configureOnBoot: BENCH_COMMISSIONING })
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
sim.charge(32)
sim.swipe("04A1B2C3")
await until(() => sim.state().contactorClosed, "charging")
await sleep(Number(values.seconds) * 1000)
sim.unplug()
await until(() => sim.state().transactionId === null, "session end")
await sleep(1000)
const end = sim.state()
await sim.stop()
await csms.close()

const sessionWh = end.energyWh - boot.energyWh
const perHundredWh = 1 // the energy register (4 bytes + CRC) every 100 Wh
const energyWrites = Math.floor(sessionWh / 100) * perHundredWh
const sessionWrites = end.flashWrites - boot.flashWrites - energyWrites
const sessionBytes = end.flashBytes - boot.flashBytes - energyWrites * 40
console.log(`boot: ${boot.flashWrites} records, ${boot.flashBytes} B`)
console.log(`one session of ${sessionWh} Wh: ${end.flashWrites - boot.flashWrites} records, ${end.flashBytes - boot.flashBytes} B ` +
    `(${energyWrites} of them the energy register every 100 Wh)`)
const day = { writes: boot.flashWrites + 2 * sessionWrites + 300 * perHundredWh, bytes: boot.flashBytes + 2 * sessionBytes + 300 * 40 }
console.log(`typical day (1 boot, 2 sessions, 30 kWh): ${day.writes} records, ${day.bytes} B appended ` +
    `= ${(day.bytes / 16384).toFixed(2)} compactions of the 16 KiB region, each region page erased every ${(2 * 16384 / day.bytes).toFixed(1)} days`)
