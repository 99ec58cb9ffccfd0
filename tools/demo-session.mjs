// Drive one charging session through the bench control API and report what happened:
//   node tools/demo-session.mjs [--api http://127.0.0.1:8090] [--card 04A1B2C3] [--seconds 10]
// Works against `npm start` or `npm run sim` (any central system).
import { parseArgs } from "node:util"

const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
        api: { type: "string", default: "http://127.0.0.1:8090" },
        card: { type: "string", default: "04A1B2C3" },
        seconds: { type: "string", default: "10" },
        current: { type: "string", default: "16" },
    },
})

async function api(method, path, body) {
    const r = await fetch(values.api + path, {
        method,
        headers: { "content-type": "application/json" },
        body: body ? JSON.stringify(body) : undefined,
    })
    const j = await r.json()
    if (!r.ok) throw new Error(`${method} ${path}: ${j.error}`)
    return j
}

async function until(what, pred, timeoutMs = 30000) {
    const t0 = Date.now()
    for (;;) {
        const s = await api("GET", "/api/state")
        if (pred(s)) return s
        if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`)
        await new Promise(r => setTimeout(r, 200))
    }
}

const show = s =>
    `status=${s.connectorStatus} pilot=${s.pilotState} duty=${s.pwmDutyPercent}% offer=${s.offeredCurrentA}A ` +
    `contactor=${s.contactorClosed ? "closed" : "open"} energy=${s.energyWh}Wh power=${s.powerW}W tx=${s.transactionId}`

let s = await until("the charge point to be online and Available", s => s.ocppConnected && s.connectorStatus === "Available", 60000)
console.log("online:   ", show(s))
await api("POST", "/api/ev/plug")
s = await until("Preparing", s => s.connectorStatus === "Preparing")
console.log("plugged:  ", show(s))
await api("POST", "/api/rfid", { uid: values.card })
s = await until("a transaction", s => s.transactionId !== null)
console.log("card:     ", show(s))
await api("POST", "/api/ev/charge", { maxCurrentA: Number(values.current) })
s = await until("the contactor to close", s => s.contactorClosed && s.connectorStatus === "Charging")
console.log("charging: ", show(s))
const startWh = s.energyWh
await new Promise(r => setTimeout(r, Number(values.seconds) * 1000))
s = await api("GET", "/api/state")
console.log("after %ss: ", values.seconds, show(s))
await api("POST", "/api/ev/unplug")
s = await until("the session to end", s => s.transactionId === null && !s.contactorClosed && s.connectorStatus === "Available")
console.log("unplugged:", show(s))
console.log(`session delivered ${s.energyWh - startWh} Wh`)
