// The simulator board: runs the firmware in the DeviceScript VM and serves its hardware
// (relay, pilot PWM buzzer, Wallbox Sim Board service) on a Jacdac bus from models.
//
// The VM runs in a child process (`devs run --tcp`, its Jacdac link redirected to our
// bus port by vm-preload.cjs), with its flash file in the flash directory. Killing the
// child is a power cut: the models keep the physical state (EV, meter energy) and the
// board's volatile state (S0 counter, relay, pilot tone) is reset.
import net from "node:net"
import fs from "node:fs"
import os from "node:os"
import path from "node:path"
import crypto from "node:crypto"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import { EventEmitter } from "node:events"
import { fileURLToPath } from "node:url"
import { buildTarget, CLI, ROOT } from "../build.mjs"
import { PilotOutput, EvModel, ContactorModel, MeterModel, CardReaderModel, pilotLetter, currentForDutyPermille } from "./models.mjs"

const require = createRequire(import.meta.url)
const jd = require("jacdac-ts")
const PRELOAD = path.join(path.dirname(fileURLToPath(import.meta.url)), "vm-preload.cjs")

/** Custom service of services/wallboxsim.md (codes as in the spec). */
export const SRV_WALLBOX_SIM = 0x1d6b6f1a
const REG = {
    display: 0x80,
    priceText: 0x81,
    costText: 0x82,
    qrCodeText: 0x83,
    pilotHigh: 0x180,
    pilotLow: 0x181,
    s0Input: 0x182,
    contactorFeedback: 0x183,
    cardUid: 0x184,
    faultBits: 0x185,
    meterCurrent: 0x186,
    meterVoltage: 0x187,
    csmsUrl: 0x188,
    chargePointId: 0x189,
    authorizationKey: 0x18a,
    heapReserve: 0x18b,
    meterConstant: 0x18c,
    cardFelica: 0x18d,
    connectorLocked: 0x84,
    socketOutlet: 0x18e,
}
const MODEL_TICK_MS = 2

let specsLoaded = false
function loadSpecs() {
    if (specsLoaded) return
    const file = path.join(ROOT, ".devicescript/services.json")
    jd.loadServiceSpecifications(JSON.parse(fs.readFileSync(file, "utf8")))
    specsLoaded = true
}

/** Device id of the VM (stable per charge point id, so its serial number is too). */
function deviceIdFor(cpId) {
    return crypto.createHash("sha256").update(cpId).digest("hex").slice(0, 16)
}

export class Simulator extends EventEmitter {
    /**
     * @param {object} o
     * @param {string} o.csms central system URL, ws:// or wss:// (without the id)
     * @param {string} o.id charge point id
     * @param {string} [o.key] AuthorizationKey (HTTP Basic password)
     * @param {string} [o.flash] directory that keeps the simulated flash across runs
     * @param {number} [o.impPerKwh] S0 meter constant
     * @param {object} [o.env] extra environment for the VM process (NODE_EXTRA_CA_CERTS...)
     * @param {number} [o.heapReserve] bytes of heap the board holds back (heap probe)
     * @param {boolean} [o.socket] the socket variant (a plug lock) instead of a fixed cable
     * @param {(line: string) => void} [o.log] receives the VM's log lines
     */
    constructor(o) {
        super()
        this.o = o
        this.ev = new EvModel()
        this.contactor = new ContactorModel()
        this.meter = new MeterModel(o.impPerKwh ?? 1000)
        this.reader = new CardReaderModel()
        this.pilot = new PilotOutput()
        this.faultBits = 0
        this.mainsOn = true
        this.firmware = {} // last status line the firmware displayed
        this.priceScreen = { price: "", cost: "", qr: "" } // the display's price screen (CTEP)
        this.vmLog = []
        this.powerCuts = 0
        this.contactorEvents = [] // [ms, closed] for latency figures
        this.t0 = performance.now()
        this.starting = null // "building" | "booting" while start() runs
        this.netUp = true
        this.netConns = new Set()
    }

    now() {
        return performance.now() - this.t0
    }

    async start() {
        this.setStarting("building")
        const image = await buildTarget("sim", { log: m => this.emit("log", m) })
        this.setStarting("booting")
        this.image = image
        loadSpecs()
        this.flashDir = this.o.flash ? path.resolve(this.o.flash) : fs.mkdtempSync(path.join(os.tmpdir(), "wallbox-flash-"))
        this.tempFlash = !this.o.flash
        fs.mkdirSync(this.flashDir, { recursive: true })
        this.startBus()
        await new Promise(resolve => this.server.listen(0, "127.0.0.1", resolve))
        this.busPort = this.server.address().port
        await this.startNetProxy()
        this.timer = setInterval(() => this.tick(), MODEL_TICK_MS)
        this.lastTick = this.now()
        this.spawnVm()
        this.setStarting(null)
    }

    setStarting(step) {
        this.starting = step
        this.emit("phase", this.phase())
    }

    /**
     * What the bench shows while it comes up: "building" (the firmware image), "booting"
     * (VM started, nothing displayed yet), "connecting" (no link to the central system),
     * "online", or "off" (power cut).
     */
    phase() {
        if (this.starting) return this.starting
        if (!this.timer) return "stopped"
        if (!this.vm) return "off"
        if (!this.firmware.s) return "booting"
        return this.firmware.on === 1 ? "online" : "connecting"
    }

    /**
     * The network between the board and a ws:// central system: a TCP proxy the VM's
     * connection to the provisioned host:port goes through (vm-preload.cjs), so that the
     * bench can drop it. wss:// connections go direct (no drop).
     */
    async startNetProxy() {
        let u
        try {
            u = new URL(this.o.csms || "")
        } catch {
            return
        }
        if (u.protocol !== "ws:") return
        this.netTarget = { host: u.hostname, port: Number(u.port || 80) }
        this.netProxy = net.createServer(client => {
            if (!this.netUp) return client.destroy()
            const upstream = net.connect(this.netTarget)
            for (const [a, b] of [[client, upstream], [upstream, client]]) {
                a.setNoDelay(true)
                a.pipe(b)
                a.on("error", () => b.destroy())
                a.on("close", () => b.destroy())
                this.netConns.add(a)
                a.on("close", () => this.netConns.delete(a))
            }
        })
        await new Promise(resolve => this.netProxy.listen(0, "127.0.0.1", resolve))
    }

    /** Drop the network: cut the board's connections, refuse new ones. */
    networkDrop() {
        if (!this.netProxy) throw Object.assign(new Error("the network can be dropped only with a ws:// central system"), { status: 409 })
        this.netUp = false
        for (const s of this.netConns) s.destroy()
    }

    networkRestore() {
        if (!this.netProxy) throw Object.assign(new Error("the network can be dropped only with a ws:// central system"), { status: 409 })
        this.netUp = true
    }

    /** The Jacdac bus with the board's services, bridged to the VM over TCP. */
    startBus() {
        this.bus = new jd.JDBus([], { client: false, disableRoleManager: true, proxy: true })
        this.bridge = jd.createProxyBridge(data => this.sendToVm(data))
        this.bridge.bus = this.bus

        const relay = new jd.JDServiceServer(jd.SRV_RELAY)
        this.relayActive = relay.addRegister(jd.RelayReg.Active, [false])
        this.relayActive.on(jd.CHANGE, () => this.contactor.setCoil(this.now(), !!this.relayActive.values()[0]))

        const buzzer = new jd.JDServiceServer(jd.SRV_BUZZER)
        this.buzzerVolume = buzzer.addRegister(jd.BuzzerReg.Volume, [0x80 / 256])
        this.buzzerVolume.on(jd.CHANGE, () => {
            this.pilot.volume = this.buzzerVolume.data[0]
        })
        buzzer.addCommand(jd.BuzzerCmd.PlayTone, pkt => {
            const [period, duty, duration] = pkt.jdunpack("u16 u16 u16")
            this.pilot.playTone(this.now(), period, duty, duration)
        })

        const board = new jd.JDServiceServer(SRV_WALLBOX_SIM)
        this.regs = {}
        const add = (name, value) => (this.regs[name] = board.addRegister(REG[name], [value]))
        add("pilotHigh", -12000)
        add("pilotLow", -12000)
        add("s0Input", true)
        add("contactorFeedback", false)
        add("cardFelica", new Uint8Array(0))
        add("cardUid", new Uint8Array(0))
        add("faultBits", 0)
        add("meterCurrent", 0)
        add("meterVoltage", 0)
        add("csmsUrl", this.o.csms || "")
        add("chargePointId", this.o.id || "")
        add("authorizationKey", this.o.key || "")
        add("heapReserve", this.o.heapReserve || 0)
        add("meterConstant", this.meter.impPerKwh)
        add("socketOutlet", !!this.o.socket)
        const lock = add("connectorLocked", false)
        lock.on(jd.CHANGE, () => {
            this.connectorLocked = !!lock.values()[0]
            this.emit("status", this.firmware)
        })
        const display = add("display", "")
        display.on(jd.CHANGE, () => {
            try {
                this.firmware = JSON.parse(display.values()[0])
                this.emit("status", this.firmware)
            } catch {}
        })
        for (const [name, field] of [["priceText", "price"], ["costText", "cost"], ["qrCodeText", "qr"]]) {
            const reg = add(name, "")
            reg.on(jd.CHANGE, () => {
                this.priceScreen = { ...this.priceScreen, [field]: reg.values()[0] }
                this.emit("status", this.firmware)
            })
        }
        this.device = new jd.JDServerServiceProvider("wallbox-sim", [relay, buzzer, board])
        this.bus.addServiceProvider(this.device)
        this.bus.start()

        this.server = net.createServer(sock => this.acceptVm(sock))
    }

    acceptVm(sock) {
        if (this.vmSock) this.vmSock.destroy()
        this.vmSock = sock
        sock.setNoDelay(true)
        let acc = Buffer.alloc(0)
        sock.on("data", d => {
            acc = acc.length ? Buffer.concat([acc, d]) : d
            // frames: 1-byte length, or 255 + 16-bit little-endian length
            for (;;) {
                if (acc.length < 1) break
                let len = acc[0]
                let off = 1
                if (len === 255) {
                    if (acc.length < 3) break
                    len = acc[1] | (acc[2] << 8)
                    off = 3
                }
                if (acc.length < off + len) break
                this.bridge.receiveFrameOrPacket(new Uint8Array(acc.subarray(off, off + len)), "vm")
                acc = acc.subarray(off + len)
            }
        })
        sock.on("error", () => {})
        sock.on("close", () => {
            if (this.vmSock === sock) this.vmSock = null
        })
    }

    sendToVm(data) {
        if (!this.vmSock) return
        const hdr = data.length >= 255 ? Buffer.from([255, data.length & 255, data.length >> 8]) : Buffer.from([data.length])
        this.vmSock.write(Buffer.concat([hdr, Buffer.from(data)]))
    }

    spawnVm() {
        const args = ["-r", PRELOAD, CLI, "--no-colors", "run", "--tcp", "--device-id", deviceIdFor(this.o.id || "sim"), this.image.dbg]
        const child = spawn(process.execPath, args, {
            cwd: this.flashDir,
            env: {
                ...process.env,
                ...this.o.env,
                SIM_BUS_PORT: String(this.busPort),
                NO_UPDATE_NOTIFIER: "1",
                ...(this.netProxy && {
                    SIM_NET_TARGET: `${this.netTarget.host}:${this.netTarget.port}`,
                    SIM_NET_PROXY_PORT: String(this.netProxy.address().port),
                }),
            },
            // stdin stays open: the VM kills itself when it closes (the runner died)
            stdio: ["pipe", "pipe", "pipe"],
        })
        this.vm = child
        const onLine = line => {
            if (!line) return
            const text = line.replace(/^WASM> /, "")
            this.vmLog.push(`${new Date().toISOString()} ${text}`)
            if (this.vmLog.length > 2000) this.vmLog.splice(0, 1000)
            if (this.o.log) this.o.log(text)
            this.emit("vmlog", text)
        }
        let buf = ""
        const feed = d => {
            buf += d
            let nl
            while ((nl = buf.indexOf("\n")) >= 0) {
                onLine(buf.slice(0, nl).trimEnd())
                buf = buf.slice(nl + 1)
            }
        }
        child.stdout.on("data", feed)
        child.stderr.on("data", feed)
        child.on("exit", (code, signal) => {
            if (this.vm === child) {
                this.vm = null
                this.emit("vmexit", { code, signal })
            }
        })
    }

    /** Cut the power: kill the VM (flash stays as it is on disk), reset the board. */
    async powerCut() {
        this.powerCuts++
        await this.killVm()
        this.contactor.setCoil(this.now(), false)
        this.relayActive.setValues([false], true)
        this.pilot.powerCut()
        this.reader.uid = null
        this.firmware = {}
        this.priceScreen = { price: "", cost: "", qr: "" }
        // the display forgets what it showed: the rebooted firmware's first line is news,
        // even when it is the same text as before the cut
        for (const name of ["display", "priceText", "costText", "qrCodeText"]) this.regs[name]?.setValues([""], true)
        this.emit("status", this.firmware)
    }

    /** Power back on: the firmware boots from its flash. */
    powerOn() {
        if (!this.vm) this.spawnVm()
    }

    killVm() {
        const child = this.vm
        if (!child) return Promise.resolve()
        this.vm = null
        return new Promise(resolve => {
            child.once("exit", resolve)
            child.kill("SIGKILL")
        })
    }

    async stop() {
        clearInterval(this.timer)
        this.timer = null
        await this.killVm()
        if (this.vmSock) this.vmSock.destroy()
        if (this.netProxy) {
            for (const s of this.netConns) s.destroy()
            await new Promise(resolve => this.netProxy.close(resolve))
        }
        await new Promise(resolve => this.server.close(resolve))
        this.bus.stop?.()
        if (this.tempFlash) fs.rmSync(this.flashDir, { recursive: true, force: true })
    }

    /** Publish a register value to the firmware when it changed (a pushed report). */
    publish(name, value) {
        const reg = this.regs[name]
        const old = reg.values()[0]
        const same = value instanceof Uint8Array ? Buffer.from(old).equals(Buffer.from(value)) : old === value
        if (same) return
        reg.setValues([value])
        reg.sendGetAsync()
    }

    tick() {
        const now = this.now()
        const dt = now - this.lastTick
        this.lastTick = now
        const powered = !!this.vm
        const out = powered ? this.pilot.level(now) : { kind: "-12V", duty: 0 }
        this.ev.step(dt, out, this.contactor.closed)
        this.meter.step(dt, this.contactor.closed ? this.ev.drawA : 0, this.ev.phases, this.mainsOn, now)
        const v = this.ev.pilotVoltages(out)
        this.publish("pilotHigh", v.high)
        this.publish("pilotLow", v.low)
        this.publish("s0Input", !this.meter.low)
        this.publish("contactorFeedback", this.contactor.closed)
        // the FeliCa data first: the firmware reads it when the UID appears
        this.publish("cardFelica", this.reader.currentFelica(now) ?? new Uint8Array(0))
        this.publish("cardUid", this.reader.current(now) ?? new Uint8Array(0))
        this.publish("faultBits", this.faultBits)
        this.publish("meterCurrent", Math.round(this.meter.currentA * 1000))
        this.publish("meterVoltage", this.mainsOn ? Math.round(this.meter.voltageV * 1000) : 0)
        if (this.contactor.closed !== this.lastContactor) {
            this.lastContactor = this.contactor.closed
            this.contactorEvents.push([now, this.contactor.closed])
            if (this.contactorEvents.length > 200) this.contactorEvents.shift()
            this.emit("contactor", this.contactor.closed)
        }
    }

    /** The control API's view: physical state from the models, the rest from the firmware. */
    state() {
        const now = this.now()
        const out = this.vm ? this.pilot.level(now) : { kind: "-12V", duty: 0 }
        const v = this.ev.pilotVoltages(out)
        const fw = this.firmware
        return {
            pilotState: pilotLetter(v.high, v.low, out.kind === "PWM"),
            pilotHighMv: v.high,
            pilotLowMv: v.low,
            pwmDutyPercent: out.kind === "PWM" ? out.duty / 10 : out.kind === "+12V" ? 100 : 0,
            offeredCurrentA: out.kind === "PWM" ? currentForDutyPermille(out.duty) : 0,
            contactorClosed: this.contactor.closed,
            contactorWelded: this.contactor.welded,
            energyWh: fw.e ?? null,
            s0PulsesCounted: fw.p ?? null,
            flashWrites: fw.fw ?? null,
            flashBytes: fw.fb ?? null,
            s0PulsesEmitted: this.meter.emitted,
            meterEnergyWh: Math.floor(this.meter.energyWh),
            powerW: Math.round(this.meter.powerW),
            currentA: Math.round(this.meter.currentA * 10) / 10,
            connectorStatus: fw.s || null,
            transactionId: fw.tx ?? null,
            idTag: fw.tag || null,
            ocppConnected: fw.on === 1,
            registration: fw.r || null,
            firmwareFaults: fw.f ?? 0,
            lastAuthorization: fw.au || null,
            journalRecords: fw.j ?? null,
            socketOutlet: !!this.o.socket,
            connectorLocked: !!this.connectorLocked,
            priceText: this.priceScreen.price || null,
            costText: this.priceScreen.cost || null,
            qrCodeText: this.priceScreen.qr || null,
            firmwarePilotState: fw.cp || null,
            faultBits: this.faultBits,
            ev: {
                plugged: this.ev.plugged,
                state: this.ev.state(),
                maxCurrentA: this.ev.maxCurrentA,
                drawA: Math.round(this.ev.drawA * 10) / 10,
                ventilation: this.ev.ventilation,
            },
            powered: !!this.vm,
            powerCuts: this.powerCuts,
            network: this.netProxy ? (this.netUp ? "up" : "down") : null,
        }
    }

    /** The EV changed what it presents on the pilot (for latency figures). */
    evChanged() {
        this.evChangedAt = this.now()
    }

    /** ms from the last EV change to the contactor's last switch (NaN if not after it). */
    contactorLatencyMs() {
        const d = this.contactor.lastChangeMs - this.evChangedAt
        return d >= 0 ? d : NaN
    }

    // ---- actions of the control API ----
    plug() {
        this.ev.plugged = true
        this.evChanged()
    }
    unplug() {
        this.ev.plugged = false
        this.ev.wantsCharge = false
        this.evChanged()
    }
    charge(maxCurrentA, ignoresPwmOff = false) {
        this.ev.plugged = true
        this.ev.wantsCharge = true
        this.evChanged()
        this.ev.ignoresPwmOff = ignoresPwmOff
        if (maxCurrentA > 0) this.ev.maxCurrentA = maxCurrentA
    }
    ventilation(on) {
        this.ev.ventilation = on
        this.evChanged()
    }
    diodeFault(on) {
        this.ev.diodeFault = on
        this.evChanged()
    }
    shortToPe(on) {
        this.ev.shortToPe = on
        this.evChanged()
    }
    weld(welded) {
        this.contactor.weld(this.now(), welded)
    }
    pause() {
        this.ev.wantsCharge = false
        this.evChanged()
    }
    /** A card in the field: `uid` hex, or for a FeliCa card `felica` {idm, dataFormatCode, eneKeyData} (hex). */
    swipe(uid, felica) {
        this.reader.present(this.now(), uid ?? felica.idm, 800, felica && felica.idm + felica.dataFormatCode + felica.eneKeyData)
    }
    setFault(bits) {
        this.faultBits |= bits
    }
    clearFault(bits) {
        this.faultBits = bits === undefined ? 0 : this.faultBits & ~bits
    }
}
