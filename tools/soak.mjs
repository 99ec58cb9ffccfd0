// Soak test of the transaction journal (issue #5): many charging sessions against one
// simulated wallbox and the strict central system, with network drops and power cuts
// (kill -9 of the VM, flash kept) at random points; then everything is restored, the
// journal drains, and one summary says what the central system got: transactions
// delivered, duplicated, lost, orphans, energy mismatches. Not part of `npm test`.
//
//   node tools/soak.mjs [--sessions N] [--seed S] [--quick] [--log-dir DIR] [--verbose]
//
// --sessions  number of sessions (default 100; --quick: 8)
// --seed      seed of the pseudo-random schedule (default: from the clock, printed)
// --quick     ~2-minute smoke variant: short sessions, every kind of power cut once
// --log-dir   where the firmware log, the bench's action log and the central system's
//             messages are written (default: a new directory under the OS temp dir)
// --verbose   echo every bench action (they always go to the action log)
//
// Exit code: 1 when a session was lost or a transaction message duplicated, 2 when the
// bench itself failed, 0 otherwise.
import { parseArgs } from "node:util"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import { startBench, bootToAvailable, sleep } from "../test/e2e/harness.mjs"

const { values: opt } = parseArgs({
    args: process.argv.slice(2),
    options: {
        sessions: { type: "string" },
        seed: { type: "string" },
        quick: { type: "boolean", default: false },
        "log-dir": { type: "string" },
        verbose: { type: "boolean", default: false },
    },
})
const QUICK = opt.quick
const N = opt.sessions !== undefined ? parseInt(opt.sessions, 10) : QUICK ? 8 : 100
const SEED = opt.seed !== undefined ? parseInt(opt.seed, 10) >>> 0 : Date.now() % 1000000
if (!(N > 0) || isNaN(SEED)) {
    console.error("usage: node tools/soak.mjs [--sessions N] [--seed S] [--quick] [--log-dir DIR] [--verbose]")
    process.exit(2)
}
const LOG_DIR = opt["log-dir"] ?? fs.mkdtempSync(path.join(os.tmpdir(), `wallbox-soak-${SEED}-`))
fs.mkdirSync(LOG_DIR, { recursive: true })

/**
 * Energy tolerance of a StopTransaction that is not PowerLoss, Wh. The meter puts out one
 * S0 pulse per Wh (1000 imp/kWh): the bench reads the model's energy floored to whole Wh
 * at both ends of the session (±1) and one pulse may still be on the line when the
 * firmware takes the stop value (1).
 */
const TOL_WH = 2
/**
 * PowerLoss stops carry the last persisted register: the firmware writes it every
 * PERSIST_STEP_WH (src/evse/meter.ts) and at the start, so such a stop may be short by
 * up to that much by design.
 */
const PERSIST_STEP_WH = 100
/** The journal has drained when no transaction message came for this long. */
const QUIET_MS = QUICK ? 10000 : 20000
const DRAIN_MAX_MS = 300000

// ---- reproducible randomness ----

function mulberry32(a) {
    return () => {
        a = (a + 0x6d2b79f5) | 0
        let t = Math.imul(a ^ (a >>> 15), 1 | a)
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296
    }
}
/** One generator per session (its draws do not shift the other sessions' schedule). */
function rngFor(i) {
    const r = mulberry32((SEED * 2654435761 + i * 40503 + 12345) >>> 0)
    const f = () => r()
    f.int = (lo, hi) => lo + Math.floor(r() * (hi - lo + 1))
    f.pick = arr => arr[Math.floor(r() * arr.length)]
    return f
}

// ---- the schedule ----

/** Points of a session where bench events happen, in order. */
const HOOKS = ["idle", "plugged", "charge1", "charge2", "unplugged", "ended"]
const hookIndex = h => HOOKS.indexOf(h)
/**
 * Power cut kinds: while charging; just after the card/plug-in (the transaction may or may
 * not have begun); just after unplugging (the StopTransaction may or may not be
 * journalled); offline with the session's records undelivered in the journal ("backlog");
 * during the replay of that backlog once the network is back ("replay": after the k-th
 * record reached the central system, possibly before the journal deleted it; half of
 * them cut a second time during the resumed replay).
 */
const CUT_KINDS = ["charging", "plugged", "unplugged", "backlog", "replay"]

function makePlan() {
    const plans = []
    let netDown = false
    let restoreAt = null // {session, hook}
    // --quick: each kind of power cut once, on a random session
    const quickCuts = new Map()
    if (QUICK) {
        const r = rngFor(-1)
        const slots = [...Array(N).keys()].slice(1)
        for (const kind of CUT_KINDS) {
            if (!slots.length) break
            quickCuts.set(slots.splice(r.int(0, slots.length - 1), 1)[0], kind)
        }
    }
    for (let i = 0; i < N; i++) {
        const r = rngFor(i)
        // fixed draws first, so that a decision below never shifts another
        const currentA = r.int(6, 32)
        const d = r()
        const chargeS = QUICK ? 1.5 + d * 3.5 : d < 0.6 ? 3 + d * 15 : d < 0.9 ? 12 + (d - 0.6) * 43 : 25 + (d - 0.9) * 200
        const split = [r(), r()].sort((a, b) => a - b)
        const chargeMs = [split[0], split[1] - split[0], 1 - split[1]].map(x => Math.round(chargeS * 1000 * x))
        const swipeFirst = r() < 0.3
        const plugToCardMs = r.int(200, 1000)
        const gapMs = r.int(200, QUICK ? 1000 : 3000)
        const rCut = r()
        const cutKind = r.pick(CUT_KINDS)
        const cutDelayMs = r()
        const offMs = r.int(200, 3000)
        const rDrop = r()
        const dropStart = r.pick(["idle", "charge1", "ended"])
        const dropSpan = r.pick([0, 0, 1, 1, 2, 3])
        const dropEndHook = r.pick(["idle", "charge1", "charge2", "unplugged", "ended"])
        const idleDropMs = r.int(1000, QUICK ? 5000 : 15000)
        const backlogRestoreIn = r.int(1, 2)
        const replayTwice = r() < 0.5
        const replayDelay2 = r()
        const replayAfter = [r.int(1, 12), r.int(1, 15)]

        const p = { i, tag: "5A" + (SEED & 0xff).toString(16).padStart(2, "0").toUpperCase() + i.toString(16).padStart(4, "0").toUpperCase() }
        p.uid = p.tag
        Object.assign(p, { currentA, chargeMs, swipeFirst, plugToCardMs, gapMs, offMs, net: {} })
        p.cut = QUICK ? quickCuts.get(i) ?? null : i > 0 && rCut < 0.3 ? cutKind : null
        if (p.cut === "plugged") p.cutDelayMs = Math.round(cutDelayMs * 1500)
        else if (p.cut === "unplugged") p.cutDelayMs = Math.round(cutDelayMs * 600)
        else if (p.cut === "replay") p.cutDelayMs = Math.round(cutDelayMs * 40)
        else p.cutDelayMs = 0
        if (p.cut === "replay") {
            // a second cut during the resumed replay (the journal's head moved since the first)
            p.replayAfter = replayTwice ? replayAfter : replayAfter.slice(0, 1)
            if (replayTwice) p.cutDelay2Ms = Math.round(replayDelay2 * 40)
        }

        // a restore planned for this session happens at its hook (or the first one reached)
        const restoreHere = () => {
            if (netDown && restoreAt && restoreAt.session === i) {
                p.net[restoreAt.hook] = "restore"
                netDown = false
                restoreAt = null
            }
        }
        if (p.cut === "backlog" || p.cut === "replay") {
            // offline for the whole session, so that its records wait in the journal
            if (!netDown) p.net.idle = "drop"
            netDown = true
            if (p.cut === "replay") {
                // the cut itself restores the network at "ended"
                restoreAt = null
                netDown = false
            } else if (!restoreAt || restoreAt.session <= i) restoreAt = { session: i + backlogRestoreIn, hook: dropEndHook }
        } else if (!netDown && rDrop < (QUICK ? 0.5 : 0.2)) {
            if (dropStart === "ended") {
                // a drop while idle: between this session and the next
                p.net.ended = "dropIdle"
                p.idleDropMs = idleDropMs
            } else {
                p.net[dropStart] = "drop"
                netDown = true
                if (dropSpan === 0) {
                    const later = HOOKS.filter(h => hookIndex(h) > hookIndex(dropStart) && h !== "plugged")
                    restoreAt = { session: i, hook: later[Math.floor(rDrop * 1000) % later.length] }
                } else restoreAt = { session: i + dropSpan, hook: dropEndHook }
            }
        }
        restoreHere()
        plans.push(p)
    }
    return plans
}

// ---- the bench ----

const t0 = Date.now()
const elapsed = () => ((Date.now() - t0) / 1000).toFixed(1).padStart(7)
const actionLog = fs.createWriteStream(path.join(LOG_DIR, "actions.log"))
const fwLog = fs.createWriteStream(path.join(LOG_DIR, "firmware.log"))
const csmsLog = fs.createWriteStream(path.join(LOG_DIR, "csms.jsonl"))
function log(line, { echo = opt.verbose } = {}) {
    const text = `${new Date().toISOString()} ${elapsed()}s ${line}`
    actionLog.write(text + "\n")
    if (echo) console.log(text)
}

const plans = makePlan()
console.log(`soak: ${N} sessions, seed ${SEED}${QUICK ? ", quick" : ""}; logs in ${LOG_DIR}`)
log(`plan: ${JSON.stringify(plans)}`)

const b = await startBench({
    id: `CP-SOAK-${SEED}`,
    sim: { log: line => fwLog.write(`${new Date().toISOString()} ${line}\n`) },
})
/** Every message of the central system with this charge point, in order (its own log is capped). */
const msgs = []
b.csms.on("message", e => {
    if (e.identity !== b.id) return
    msgs.push(e)
    csmsLog.write(JSON.stringify(e) + "\n")
})
const TX_ACTIONS = ["StartTransaction", "MeterValues", "StopTransaction"]
let lastTxMsgAt = Date.now()
let onTxMessage = null
b.csms.on("message", e => {
    if (e.identity === b.id && e.dir === "in" && e.type === 2 && TX_ACTIONS.includes(e.action)) {
        lastTxMsgAt = Date.now()
        onTxMessage?.(e)
    }
})

const stats = { cuts: {}, drops: { inSession: 0, spanning: 0, idle: 0, forCut: 0 }, flashWrites: 0, flashBytes: 0, benchAnomalies: [], flashFileCaught: 0, flashLost: [], configLost: [] }
/** Flash counters of the running firmware (they restart from 0 after every boot). */
let flashNow = { w: 0, b: 0 }
let current = null // the session record the state observations go to
/** Power cuts and network drops with their time, to explain redeliveries. */
const events = []
let netDown = false

function observe(s) {
    if (s.powered && s.flashWrites !== null) flashNow = { w: s.flashWrites, b: s.flashBytes }
    if (current && s.transactionId !== null && s.idTag === current.tag) {
        if (!current.observedTx) log(`#${current.i} ${current.tag}: transaction begun, id ${s.transactionId}`)
        current.observedTx = true
        if (!current.txIds.includes(s.transactionId)) current.txIds.push(s.transactionId)
    }
    return s
}
const state = async () => observe(await b.api("GET", "/api/state"))
async function until(pred, what, timeout = 30000) {
    const start = Date.now()
    let s
    for (;;) {
        s = await state()
        if (pred(s)) return s
        if (Date.now() - start > timeout) {
            const e = new Error(`timed out after ${timeout} ms waiting for ${what}`)
            e.state = s
            throw e
        }
        await sleep(50)
    }
}
/** Sleep while watching the state (so a transaction that begins is seen). */
async function watch(ms) {
    const end = Date.now() + ms
    while (Date.now() < end) {
        await state()
        await sleep(Math.min(100, Math.max(0, end - Date.now())))
    }
}
const post = (p, body) => b.api("POST", p, body)

function benchAnomaly(rec, text, s) {
    const line = `BENCH #${rec?.i ?? "-"} ${rec?.tag ?? ""}: ${text}${s ? ` (state: status=${s.connectorStatus} tx=${s.transactionId} tag=${s.idTag} contactor=${s.contactorClosed} online=${s.ocppConnected} ev=${s.ev?.state})` : ""}`
    stats.benchAnomalies.push(line)
    log(line, { echo: true })
}

async function dropNetwork(why) {
    await post("/api/network/drop")
    events.push({ t: Date.now(), what: `network drop (${why})` })
    netDown = true
    log(`network dropped (${why})`)
}
async function restoreNetwork(why) {
    await post("/api/network/restore")
    netDown = false
    log(`network restored (${why})`)
}

/** Size of the simulator's flash file (-1: none). */
function flashFileBytes() {
    try {
        return fs.statSync(path.join(b.sim.flashDir, ".devicescript/flash/sim.bin")).size
    } catch {
        return -1
    }
}
let flashFileMax = 0

/**
 * kill -9 of the VM, never while the simulator rewrites its flash file. The DeviceScript
 * CLI saves the whole simulated flash with writeFileSync (truncate, then write), so a kill
 * between the two leaves an empty file and the next boot starts from erased flash — which
 * no real flash does. The VM is stopped (SIGSTOP) first; if its flash file is caught
 * empty, it runs on for a moment and is stopped again. Returns how often that happened.
 */
async function killVm() {
    const pid = b.sim.vm?.pid
    let caught = 0
    if (pid) {
        for (let k = 0; k < 100; k++) {
            process.kill(pid, "SIGSTOP")
            const size = flashFileBytes()
            if (size > 0 && size >= flashFileMax) {
                flashFileMax = size
                break
            }
            caught++
            process.kill(pid, "SIGCONT")
            await sleep(2)
        }
    }
    await post("/api/power/cut")
    return caught
}

async function powerCut(rec, kind, offMs, beforeOn) {
    const before = await state() // the flash counters and the register just before
    stats.flashWrites += flashNow.w
    stats.flashBytes += flashNow.b
    flashNow = { w: 0, b: 0 }
    const caught = await killVm()
    events.push({ t: Date.now(), what: `power cut (${kind}, #${rec.i})` })
    if (caught) {
        stats.flashFileCaught++
        log(`#${rec.i}: the cut fell while the simulator was rewriting its flash file (${caught}×): delayed until written`, { echo: true })
    }
    // Simulator quirk (tools/sim/simulator.mjs powerCut): the display register keeps the
    // last status line across the cut, and a register only reports a change, so a
    // rebooted firmware that shows the very same line (idle, offline) would never be seen.
    b.sim.regs.display.setValues([""], true)
    stats.cuts[kind] = (stats.cuts[kind] ?? 0) + 1
    rec.cuts.push({ kind, at: new Date().toISOString(), netDown })
    log(`#${rec.i} ${rec.tag}: POWER CUT (${kind}), off ${offMs} ms, network ${netDown ? "down" : "up"}, transaction ${rec.observedTx ? "seen" : "not seen"}, register ${before.energyWh} Wh`)
    await sleep(offMs)
    beforeOn?.()
    await post("/api/power/on")
    const after = await until(s => s.powered && s.connectorStatus !== null && s.energyWh !== null, "the firmware booted after the power cut", 90000)
    log(`#${rec.i}: booted, register ${after.energyWh} Wh`)
    // the register resumes at most PERSIST_STEP_WH low and never goes backwards further
    if (before.energyWh !== null && after.energyWh < before.energyWh - PERSIST_STEP_WH - TOL_WH) {
        const line = `REGISTER WENT BACK #${rec.i} ${rec.tag}: ${before.energyWh} Wh before the cut (${kind}), ${after.energyWh} Wh after the boot: the flash was lost`
        stats.flashLost.push(line)
        log(line, { echo: true })
    }
}

/** The network actions of a hook; `skipped`: hooks a power cut made the session miss. */
async function netHook(p, hook) {
    const a = p.net[hook]
    if (a === "drop") {
        await dropNetwork(`#${p.i} ${hook}`)
        if (p.cut === "backlog" || p.cut === "replay") stats.drops.forCut++
        else if (Object.values(p.net).includes("restore")) stats.drops.inSession++
        else stats.drops.spanning++
    } else if (a === "restore") {
        if (netDown) await restoreNetwork(`#${p.i} ${hook}`)
    } else if (a === "dropIdle") {
        stats.drops.idle++
        await dropNetwork(`#${p.i} idle between sessions, ${p.idleDropMs} ms`)
        await sleep(p.idleDropMs)
        await restoreNetwork(`#${p.i} idle drop over`)
    }
}

/**
 * Wait until n transaction messages arrived (armed now), or none came for idleMs after
 * the first (the backlog is delivered), or none at all within firstMs. Resolves with the
 * number that arrived.
 */
function countTx(n, firstMs, idleMs) {
    return new Promise(resolve => {
        let got = 0
        let timer
        const done = () => {
            clearTimeout(timer)
            onTxMessage = null
            resolve(got)
        }
        const arm = ms => {
            clearTimeout(timer)
            timer = setTimeout(done, ms)
        }
        onTxMessage = () => (++got >= n ? done() : arm(idleMs))
        arm(firstMs)
    })
}

/**
 * Cut at the "replay" point: the network comes back and the cut falls after the k-th
 * record of the backlog reached the central system (then again, on a resumed replay,
 * after another k'), so that it lands at every depth of the journal.
 */
async function replayCut(rec, p) {
    const first = countTx(p.replayAfter[0], 60000, 3000)
    await restoreNetwork(`#${p.i} replay`)
    const n1 = await first
    if (!n1) {
        benchAnomaly(rec, "no transaction message within 60 s of the network coming back (replay cut skipped)")
        return
    }
    if (p.cutDelayMs) await sleep(p.cutDelayMs)
    log(`#${p.i}: replay cut after ${n1} transaction message(s) +${p.cutDelayMs} ms`)
    // the backlog was shorter than k: it is delivered, a second cut would find nothing
    if (p.replayAfter.length < 2 || n1 < p.replayAfter[0]) return await powerCut(rec, "replay", p.offMs)
    let resumed
    await powerCut(rec, "replay", p.offMs, () => (resumed = countTx(p.replayAfter[1], 30000, 3000)))
    const n2 = await resumed
    if (!n2) return log(`#${p.i}: no transaction message after the replay cut (second cut skipped)`)
    if (p.cutDelay2Ms) await sleep(p.cutDelay2Ms)
    log(`#${p.i}: second replay cut after ${n2} more transaction message(s) +${p.cutDelay2Ms} ms`)
    await powerCut(rec, "replay", p.offMs)
}

const sessions = []

async function runSession(p) {
    const rec = { i: p.i, tag: p.tag, plan: p, observedTx: false, txIds: [], cuts: [], netAtStart: netDown, started: new Date().toISOString() }
    current = rec
    sessions.push(rec)
    let hookAt = 0
    const reach = async hook => {
        // network actions of hooks a cut skipped come first
        while (hookAt <= hookIndex(hook)) await netHook(p, HOOKS[hookAt++])
    }
    let cut = false
    const doCut = async kind => {
        await powerCut(rec, kind, p.offMs)
        cut = true
    }
    try {
        await reach("idle")
        rec.meter0 = (await state()).meterEnergyWh
        log(`#${p.i} ${p.tag}: session, ${p.currentA} A, ${(p.chargeMs.reduce((a, c) => a + c, 0) / 1000).toFixed(1)} s, ${p.swipeFirst ? "card first" : "plug first"}, cut ${p.cut ?? "-"}, network ${netDown ? "down" : "up"}, meter ${rec.meter0} Wh`)
        if (p.swipeFirst) {
            await post("/api/rfid", { uid: p.uid })
            await until(s => s.idTag === p.tag, "card accepted", 45000)
            await post("/api/ev/charge", { maxCurrentA: p.currentA })
        } else {
            await post("/api/ev/charge", { maxCurrentA: p.currentA })
            await watch(p.plugToCardMs)
            await post("/api/rfid", { uid: p.uid })
        }
        await reach("plugged")
        if (p.cut === "plugged") {
            await watch(p.cutDelayMs)
            await doCut("plugged")
        } else {
            await until(s => s.contactorClosed && s.transactionId !== null && s.idTag === p.tag, "charging", 60000)
            rec.chargingAt = new Date().toISOString()
            await watch(p.chargeMs[0])
            await reach("charge1")
            if (p.cut === "charging") await doCut("charging")
            else {
                await watch(p.chargeMs[1])
                await reach("charge2")
                await watch(p.chargeMs[2])
                await post("/api/ev/unplug")
                await reach("unplugged")
                if (p.cut === "unplugged") {
                    await sleep(p.cutDelayMs)
                    await doCut("unplugged")
                }
            }
        }
    } catch (e) {
        benchAnomaly(rec, e.message, e.state)
    }
    try {
        // the EV leaves (after a cut: the session ended with it)
        await post("/api/ev/unplug")
        await until(s => s.transactionId === null && !s.contactorClosed && s.connectorStatus !== null, "session ended", 60000)
        rec.meter1 = (await state()).meterEnergyWh
        rec.modelWh = rec.meter1 - rec.meter0
        await reach("ended")
        if (!cut && p.cut === "backlog") await doCut("backlog")
        if (!cut && p.cut === "replay") {
            await replayCut(rec, p)
            cut = true
        }
        if (cut) await until(s => s.powered && s.connectorStatus !== null && s.transactionId === null, "idle after the cut", 60000)
    } catch (e) {
        benchAnomaly(rec, e.message, e.state)
        if (!(await state()).powered) await post("/api/power/on")
    }
    log(
        `#${p.i} ${p.tag}: done, transaction ${rec.observedTx ? `seen (${rec.txIds.join(", ")})` : "not seen"}, model ${rec.modelWh} Wh${rec.cuts.length ? `, cut ${rec.cuts.map(c => c.kind).join(",")}` : ""}`,
        { echo: true },
    )
    current = null
    await sleep(p.gapMs)
}

/** The soak's configuration (the rest stays at the defaults, TransactionMessageAttempts too). */
const SOAK_CONFIG = { AllowOfflineTxForUnknownId: "true", MeterValueSampleInterval: "5" }
let configApplied = false

/**
 * After every accepted BootNotification (once the central system's commissioning is
 * through): the configuration is in flash, so it must have survived the power cut. If it
 * did not, that is reported and it is set again, so that the soak goes on testing.
 */
async function checkConfig() {
    if (!configApplied) return
    try {
        const r = await b.call("GetConfiguration", { key: Object.keys(SOAK_CONFIG) })
        const now = Object.fromEntries(r.configurationKey.map(k => [k.key, k.value]))
        const lost = Object.entries(SOAK_CONFIG).filter(([k, v]) => now[k] !== v)
        if (!lost.length) return
        const line = `CONFIG LOST after a boot: ${lost.map(([k, v]) => `${k}=${now[k]} (set ${v})`).join(", ")}; set again`
        stats.configLost.push(`${new Date().toISOString()} ${line}`)
        log(line, { echo: true })
        for (const [key, value] of lost) await b.call("ChangeConfiguration", { key, value })
    } catch (e) {
        log(`configuration check failed: ${e.message}`)
    }
}
b.csms.on("configured", id => id === b.id && checkConfig())

let stopping = false
process.on("SIGINT", () => {
    if (stopping) process.exit(130)
    stopping = true
    console.log("interrupted: finishing this session, then the summary (^C again to quit at once)")
})

let exitCode = 0
try {
    await bootToAvailable(b)
    for (const [key, value] of Object.entries(SOAK_CONFIG)) {
        const r = await b.call("ChangeConfiguration", { key, value })
        if (r.status !== "Accepted") throw new Error(`ChangeConfiguration ${key}=${value}: ${r.status}`)
    }
    configApplied = true
    log(`configured: ${JSON.stringify(SOAK_CONFIG)}`, { echo: true })
    for (const p of plans) {
        if (stopping) break
        await runSession(p)
    }

    // restore everything and let the journal drain
    log("restoring: power on, network up, EV unplugged", { echo: true })
    if (!(await state()).powered) await post("/api/power/on")
    if (netDown) await restoreNetwork("end")
    await post("/api/ev/unplug")
    await until(s => s.ocppConnected && s.registration === "Accepted", "online at the end", 120000)
    const onlineAt = Date.now()
    const drainStart = Date.now()
    while (Date.now() - Math.max(lastTxMsgAt, onlineAt) < QUIET_MS) {
        if (Date.now() - drainStart > DRAIN_MAX_MS) {
            benchAnomaly(null, `the journal did not drain within ${DRAIN_MAX_MS / 1000} s (transaction messages kept coming)`)
            break
        }
        await sleep(500)
    }
    await state()
    stats.flashWrites += flashNow.w
    stats.flashBytes += flashNow.b
} catch (e) {
    benchAnomaly(current, "bench failed: " + (e.stack ?? e.message), e.state)
    exitCode = 2
}

// ---- what the central system got ----

const report = analyse()
console.log(report.text)
fs.writeFileSync(path.join(LOG_DIR, "summary.txt"), report.text + "\n")
if (exitCode === 0 && (report.lost > 0 || report.duplicated > 0)) exitCode = 1
await new Promise(r => actionLog.end(r))
await new Promise(r => fwLog.end(r))
await new Promise(r => csmsLog.end(r))
await b.stop()
process.exit(exitCode)

function analyse() {
    const anomalies = []
    const info = []
    const calls = msgs.filter(m => m.dir === "in" && m.type === 2 && TX_ACTIONS.includes(m.action))
    /** The answer to a CALL: the next message out with its id. */
    const answerTo = m => msgs.find(a => a.seq > m.seq && a.dir === "out" && (a.type === 3 || a.type === 4) && a.id === m.id)
    const byTag = new Map(sessions.map(s => [s.tag, s]))
    const txs = new Map() // transactionId → {id, start, meterValues, stops, late}
    const startsByTag = new Map()
    const orphanMv = []
    const orphanStops = []
    const unknownStarts = []
    const noTxMv = []
    for (const m of calls) {
        if (m.action === "StartTransaction") {
            const a = answerTo(m)
            const id = a?.type === 3 ? a.payload.transactionId : undefined
            const t = { id, start: m, meterValues: [], stops: [], late: [] }
            if (id !== undefined) txs.set(id, t)
            if (!startsByTag.has(m.payload.idTag)) startsByTag.set(m.payload.idTag, [])
            startsByTag.get(m.payload.idTag).push(t)
            if (!byTag.has(m.payload.idTag)) unknownStarts.push(m)
        } else if (m.action === "MeterValues") {
            if (m.payload.transactionId === undefined) {
                noTxMv.push(m)
                continue
            }
            const t = txs.get(m.payload.transactionId)
            if (!t) orphanMv.push(m)
            else if (t.stops.length) t.late.push(m)
            else t.meterValues.push(m)
        } else {
            const t = txs.get(m.payload.transactionId)
            if (!t) orphanStops.push(m)
            else t.stops.push(m)
        }
    }
    const fmt = m => `${m.action} seq ${m.seq} ${m.time} ${JSON.stringify(m.payload).slice(0, 240)}`
    /**
     * Why a message came again: a power cut or network drop between the first copy's
     * arrival and the next one (the charge point deletes a record only after the answer:
     * at-least-once by design, OCPP 1.6 has no way to tell a repeat).
     */
    let dupExplained = 0
    const why = (first, again) => {
        const t1 = Date.parse(first.time)
        const t2 = Date.parse(again.time)
        const e = events.find(e => e.t >= t1 - 5 && e.t <= t2)
        const same = JSON.stringify(first.payload) === JSON.stringify(again.payload)
        if (e && same && e.t - t1 <= 2000) {
            dupExplained++
            return `identical copy; ${e.what} ${e.t - t1} ms after the first copy arrived, before the record left the journal: at-least-once redelivery`
        }
        return `${same ? "identical copy" : "different payload"}; ${e ? `${e.what} ${e.t - t1} ms after the first copy` : "no power cut or network drop in between"}: UNEXPLAINED`
    }
    const cutsOf = s => (s.cuts.length ? s.cuts.map(c => `${c.kind} at ${c.at} (network ${c.netDown ? "down" : "up"})`).join("; ") : "none")
    const ctx = s => `#${s.i} ${s.tag} [plan: ${s.plan.currentA} A, cut ${s.plan.cut ?? "-"}${s.plan.cut ? ` +${s.plan.cutDelayMs} ms` : ""}, net ${JSON.stringify(s.plan.net)}; network at start ${s.netAtStart ? "down" : "up"}; cuts: ${cutsOf(s)}; seen ids ${s.txIds.join(",") || "-"}; model ${s.modelWh} Wh]`

    let startedSeen = 0
    let startedUnseen = 0
    let notBegun = 0
    let lost = 0
    let lostWithEnergy = 0
    let dupStarts = 0
    let dupStops = 0
    /** identical copies the central system recognised (same transactionId, same stop): not billed twice */
    let redeliveredStarts = 0
    let redeliveredStops = 0
    let delivered = 0
    let sessionsDelivered = 0
    const energy = { checked: 0, over: 0, maxDev: 0, powerLoss: 0, powerLossWithin: 0, powerLossOver: 0, powerLossMaxDeficit: 0, unknown: 0, belowOwnValues: 0 }
    const reasons = {}
    for (const s of sessions) {
        const starts = startsByTag.get(s.tag) ?? []
        const begun = s.observedTx || starts.length > 0
        if (s.observedTx) startedSeen++
        else if (starts.length) startedUnseen++
        if (!begun) {
            if (s.modelWh > TOL_WH) {
                lost++
                lostWithEnergy++
                anomalies.push(`LOST ${ctx(s)}: ${s.modelWh} Wh went to the EV, but no transaction was seen and no StartTransaction arrived`)
            } else {
                notBegun++
                if (s.plan.cut !== "plugged") anomalies.push(`NOT BEGUN ${ctx(s)}: no transaction although no power cut came before it`)
            }
            continue
        }
        if (!s.observedTx && starts.length) info.push(`#${s.i} ${s.tag}: transaction begun but not seen by the bench before the cut (${s.cuts.map(c => c.kind).join(",")}); its StartTransaction arrived`)
        const ids = new Set(starts.map(t => t.id))
        redeliveredStarts += starts.length - ids.size
        if (ids.size > 1) {
            dupStarts += ids.size - 1
            const same = starts.every(t => JSON.stringify(t.start.payload) === JSON.stringify(starts[0].start.payload))
            anomalies.push(
                `DUPLICATED START ${ctx(s)}: ${same ? "the same StartTransaction" : "different StartTransactions"} delivered ${starts.length} times:\n      ` +
                    starts.map(t => `${fmt(t.start)} → transactionId ${t.id}, ${t.stops.length} stop(s)`).join("\n      ") +
                    starts.slice(1).map((t, k) => `\n      → ${why(starts[k].start, t.start)}`).join(""),
            )
        }
        const complete = starts.filter(t => t.stops.length)
        for (const t of starts) {
            const stopPayloads = new Set(t.stops.map(m => JSON.stringify(m.payload)))
            redeliveredStops += t.stops.length - stopPayloads.size
            if (stopPayloads.size > 1) {
                dupStops += stopPayloads.size - 1
                anomalies.push(
                    `DUPLICATED STOP ${ctx(s)}: transactionId ${t.id} stopped ${t.stops.length} times:\n      ${t.stops.map(fmt).join("\n      ")}` +
                        t.stops.slice(1).map((m, k) => `\n      → ${why(t.stops[k], m)}`).join(""),
                )
            }
            if (t.late.length) anomalies.push(`LATE METERVALUES ${ctx(s)}: ${t.late.length} MeterValues of transactionId ${t.id} after its StopTransaction: ${t.late.map(fmt).join("; ")}`)
        }
        if (!complete.length) {
            lost++
            if (s.modelWh > 0) lostWithEnergy++
            anomalies.push(
                `LOST ${ctx(s)}: ` +
                    (starts.length
                        ? `StartTransaction delivered (${starts.map(t => `seq ${t.start.seq}, transactionId ${t.id}`).join("; ")}) but no StopTransaction`
                        : `the bench saw the transaction (id ${s.txIds.join(",")}), no StartTransaction arrived`),
            )
            continue
        }
        sessionsDelivered++
        // the transaction of the session: the one stopped (the first, if several)
        const t = complete[0]
        const stop = t.stops[0]
        reasons[stop.payload.reason] = (reasons[stop.payload.reason] ?? 0) + 1
        const fwWh = stop.payload.meterStop - t.start.payload.meterStart
        if (s.modelWh === undefined) {
            energy.unknown++
            continue
        }
        const dev = s.modelWh - fwWh
        if (stop.payload.reason === "PowerLoss") {
            energy.powerLoss++
            // the register the transaction's own MeterValues already reported, from its Transaction.Begin value
            const reg = mvs => mvs.flatMap(mv => mv.sampledValue.filter(v => v.measurand === "Energy.Active.Import.Register" && (v.unit ?? "Wh") === "Wh").map(v => ({ ctx: v.context, wh: Number(v.value), ts: mv.timestamp })))
            const begin = reg(stop.payload.transactionData ?? []).find(v => v.ctx === "Transaction.Begin")
            const sampled = reg(t.meterValues.flatMap(m => m.payload.meterValue))
            const top = sampled.reduce((a, v) => (v.wh > (a?.wh ?? -Infinity) ? v : a), undefined)
            if (begin && top && top.wh - begin.wh > fwWh) {
                energy.belowOwnValues++
                info.push(`#${s.i} ${s.tag}: PowerLoss StopTransaction of transactionId ${t.id} counts ${fwWh} Wh at ${stop.payload.timestamp}, below its own MeterValues (${top.wh - begin.wh} Wh at ${top.ts})`)
            }
            energy.powerLossMaxDeficit = Math.max(energy.powerLossMaxDeficit, dev)
            if (dev >= -TOL_WH && dev <= PERSIST_STEP_WH + TOL_WH) energy.powerLossWithin++
            else {
                energy.powerLossOver++
                anomalies.push(`ENERGY (PowerLoss) ${ctx(s)}: transactionId ${t.id} meterStart ${t.start.payload.meterStart} meterStop ${stop.payload.meterStop} = ${fwWh} Wh, model ${s.modelWh} Wh (deficit ${dev} Wh, allowed 0..${PERSIST_STEP_WH} ±${TOL_WH})`)
            }
        } else {
            energy.checked++
            energy.maxDev = Math.max(energy.maxDev, Math.abs(dev))
            if (Math.abs(dev) > TOL_WH) {
                energy.over++
                anomalies.push(`ENERGY ${ctx(s)}: transactionId ${t.id} (${stop.payload.reason}) meterStart ${t.start.payload.meterStart} meterStop ${stop.payload.meterStop} = ${fwWh} Wh, model ${s.modelWh} Wh (off by ${dev} Wh)`)
            }
        }
        // order within the transaction, and a cut before delivery must give Start then Stop
        const seqs = [t.start.seq, ...t.meterValues.map(m => m.seq), stop.seq]
        if (seqs.some((x, k) => k && x < seqs[k - 1])) anomalies.push(`ORDER ${ctx(s)}: transactionId ${t.id} messages out of order: ${seqs.join(",")}`)
        if (s.cuts.some(c => c.kind === "charging" || c.kind === "plugged") && stop.payload.reason !== "PowerLoss")
            info.push(`#${s.i} ${s.tag}: cut (${s.cuts.map(c => c.kind).join(",")}) but StopTransaction reason ${stop.payload.reason}`)
    }
    delivered = [...txs.values()].filter(t => t.stops.length).length
    for (const m of orphanMv) anomalies.push(`ORPHAN METERVALUES: ${fmt(m)} (no StartTransaction answered with that transactionId)`)
    for (const m of orphanStops) anomalies.push(`ORPHAN STOP: ${fmt(m)} (no StartTransaction answered with that transactionId)`)
    for (const m of unknownStarts) anomalies.push(`UNKNOWN START: ${fmt(m)} (not a card of this soak)`)
    // timestamps: each transaction's own messages, and transactions one after the other
    const tsOf = m => Date.parse(m.action === "MeterValues" ? m.payload.meterValue[0].timestamp : m.payload.timestamp)
    const completeTxs = [...txs.values()].filter(t => t.stops.length).sort((a, b) => a.start.seq - b.start.seq)
    let tsInTx = 0
    let tsAcross = 0
    for (const t of completeTxs) {
        const ts = [t.start, ...t.meterValues, t.stops[0]].map(tsOf)
        if (ts.some((x, k) => k && x < ts[k - 1])) {
            tsInTx++
            info.push(`timestamps out of order in transactionId ${t.id} (${t.start.payload.idTag}): ${[t.start, ...t.meterValues, t.stops[0]].map(m => `${m.action[0]}:${new Date(tsOf(m)).toISOString().slice(11, 19)}`).join(" ")} (stop reason ${t.stops[0].payload.reason})`)
        }
    }
    for (let k = 1; k < completeTxs.length; k++) {
        const prev = completeTxs[k - 1]
        const t = completeTxs[k]
        if (tsOf(t.start) < tsOf(prev.stops[0])) {
            tsAcross++
            info.push(`StartTransaction of transactionId ${t.id} (${t.start.payload.idTag}) is timestamped ${t.start.payload.timestamp}, before the StopTransaction of the previous one, ${prev.id} (${prev.stops[0].payload.timestamp}, ${prev.stops[0].payload.reason})`)
        }
    }
    const mvRepeats = (() => {
        const seen = new Set()
        let n = 0
        for (const m of calls.filter(m => m.action === "MeterValues")) {
            const k = JSON.stringify(m.payload.meterValue)
            if (seen.has(k)) n++
            seen.add(k)
        }
        return n
    })()
    const errors = b.csms.errors.filter(e => e.identity === b.id)
    for (const e of errors) anomalies.push(`PROTOCOL ERROR at the central system: ${JSON.stringify(e)}`)
    const cutsTotal = Object.values(stats.cuts).reduce((a, c) => a + c, 0)
    const dropsTotal = stats.drops.inSession + stats.drops.spanning + stats.drops.idle + stats.drops.forCut
    const wall = (Date.now() - t0) / 1000
    const duplicated = dupStarts + dupStops
    const L = []
    L.push("")
    L.push(`==== soak summary: ${sessions.length}${sessions.length < N ? ` of ${N} (interrupted)` : ""} sessions, seed ${SEED}${QUICK ? ", quick" : ""} ====`)
    L.push(`sessions started        ${startedSeen + startedUnseen} (card accepted and transaction begun: ${startedSeen} seen by the bench, ${startedUnseen} begun just before a power cut and found at the central system)`)
    L.push(`  not begun             ${notBegun} (power cut before the transaction began; nothing to deliver)`)
    L.push(`transactions delivered  ${delivered} complete Start+Stop pairs (${sessionsDelivered} sessions); stop reasons ${JSON.stringify(reasons)}`)
    L.push(`duplicated              ${duplicated} (${dupStarts} transactions opened twice for one session, ${dupStops} different second StopTransaction for one transactionId)`)
    L.push(`  redelivered           ${redeliveredStarts} StartTransaction, ${redeliveredStops} StopTransaction sent again identically (the answer was lost to a cut or drop) and recognised by the central system as the same transaction: not billed twice`)
    L.push(`lost                    ${lost} (${lostWithEnergy} with energy)`)
    L.push(`orphans                 ${orphanMv.length} MeterValues, ${orphanStops.length} StopTransaction (transactionId never given out); ${unknownStarts.length} StartTransaction of unknown cards`)
    L.push(`energy mismatch         ${energy.over} of ${energy.checked} normal stops off by more than ${TOL_WH} Wh (largest ${energy.maxDev} Wh)`)
    L.push(`  PowerLoss stops       ${energy.powerLoss}: ${energy.powerLossWithin} short by 0..${PERSIST_STEP_WH} Wh (±${TOL_WH}) as designed, ${energy.powerLossOver} outside (largest deficit ${energy.powerLossMaxDeficit} Wh); ${energy.belowOwnValues} below what their own MeterValues had reported`)
    L.push(`  tolerance             ${TOL_WH} Wh: 1 Wh per S0 pulse, the model's energy floored at both ends of a session, one pulse in flight at the stop;`)
    L.push(`                        a PowerLoss stop carries the register persisted last (every ${PERSIST_STEP_WH} Wh and at the start), so it may be short by up to ${PERSIST_STEP_WH} Wh`)
    L.push(`power cuts              ${cutsTotal} ${JSON.stringify(stats.cuts)}`)
    L.push(`network drops           ${dropsTotal} (${stats.drops.inSession} within a session, ${stats.drops.spanning} spanning sessions, ${stats.drops.idle} while idle, ${stats.drops.forCut} for backlog/replay cuts)`)
    L.push(`flash                   ${stats.flashWrites} writes, ${stats.flashBytes} bytes (summed over ${cutsTotal + 1} boots; counts since the last display update before each cut are missed)`)
    L.push(`  kept across cuts      register went back ${stats.flashLost.length}×, configuration lost ${stats.configLost.length}×; ${stats.flashFileCaught} cuts caught the simulator rewriting its flash file and were delayed until it was written`)
    L.push(`other                   ${mvRepeats} MeterValues delivered twice; timestamps out of order: ${tsInTx} within a transaction, ${tsAcross} Start before the previous Stop; ${errors.length} protocol errors; ${stats.benchAnomalies.length} bench anomalies; ${noTxMv.length} MeterValues outside transactions`)
    L.push(`wall time               ${Math.floor(wall / 60)} min ${Math.round(wall % 60)} s`)
    L.push(`logs                    ${LOG_DIR}`)
    if (anomalies.length) {
        L.push("anomalies:")
        for (const a of anomalies) L.push("  " + a)
    }
    if (info.length) {
        L.push("notes:")
        for (const a of info) L.push("  " + a)
    }
    if (stats.flashLost.length || stats.configLost.length) {
        L.push("flash:")
        for (const a of [...stats.flashLost, ...stats.configLost]) L.push("  " + a)
    }
    if (stats.benchAnomalies.length) {
        L.push("bench:")
        for (const a of stats.benchAnomalies) L.push("  " + a)
    }
    L.push(`result: ${lost || duplicated ? "FAIL" : "ok"} (lost ${lost}, duplicated ${duplicated})`)
    return { text: L.join("\n"), lost, duplicated }
}
