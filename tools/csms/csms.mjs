// An embedded OCPP 1.6-J central system on ocpp-rpc in strict mode: every message in
// both directions is validated against the official OCPP 1.6 JSON schemas. Accepts any
// charge point (or checks HTTP Basic passwords when given), logs every message and
// answers the charge point's requests with configurable, realistic behaviour.
import { EventEmitter } from "node:events"
import { createRequire } from "node:module"
import https from "node:https"

const require = createRequire(import.meta.url)

/**
 * The commissioning the bench and the tests apply after each boot, as a CPO would: RFID
 * cards instead of free vend, no UK random delay (both on in the seed's defaults).
 */
export const BENCH_COMMISSIONING = { FreevendEnabled: "false", RandomDelay: "600,2,0" }
const { RPCServer, createRPCError } = require("ocpp-rpc")
export { createRPCError }

export class CentralSystem extends EventEmitter {
    /**
     * @param {object} [o]
     * @param {string} [o.bootStatus] Accepted | Pending | Rejected
     * @param {number} [o.heartbeatInterval] interval returned by BootNotification, s
     * @param {Record<string,string>|null} [o.passwords] identity → password; null accepts all
     * @param {(idTag: string) => object} [o.authorize] idTagInfo for an idTag
     * @param {Record<string,string>} [o.configureOnBoot] ChangeConfiguration sent after every
     *   accepted BootNotification (a CPO's commissioning policy)
     * @param {Record<string,Function>} [o.handlers] action → handler replacing the default one
     *   (ocpp-rpc handler signature; throw createRPCError(...) for a CALLERROR)
     * @param {boolean} [o.quiet] no console log
     */
    constructor(o = {}) {
        super()
        this.o = { bootStatus: "Accepted", heartbeatInterval: 300, passwords: null, ...o }
        this.log = [] // every message: {seq, time, identity, dir, type, id, action, payload}
        this.errors = [] // schema violations and bad messages, either direction
        this.clients = new Map()
        this.nextTxId = 1
        this.transactions = new Map()
        /** StartTransaction content → its transactionId, and the redeliveries recognised */
        this.startKeys = new Map()
        this.redelivered = []
        this.seq = 0
        this.connects = 0
        this.authFailures = 0
        /** identity → true once configureOnBoot was applied after its last boot */
        this.configured = {}
    }

    /**
     * Listen for charge points.
     * @param {number} [port] 0 lets the OS choose
     * @param {string} [host]
     * @param {{cert: string, key: string, hostname?: string}} [tls] serve wss:// with this certificate
     */
    async listen(port = 0, host = "127.0.0.1", tls) {
        this.server = new RPCServer({
            protocols: ["ocpp1.6"],
            strictMode: true,
            // keep-alive pings from the server side too (the firmware answers with pongs)
            pingIntervalMs: this.o.pingIntervalMs ?? 30000,
            callTimeoutMs: 15000,
        })
        this.server.auth((accept, reject, handshake) => {
            const pw = this.o.passwords
            if (pw) {
                const expected = pw[handshake.identity]
                const given = handshake.password ? handshake.password.toString("utf8") : undefined
                if (expected === undefined || given !== expected) {
                    this.authFailures++
                    this.emit("authFailure", handshake.identity)
                    return reject(401)
                }
            }
            accept({ identity: handshake.identity })
        })
        this.server.on("client", client => this.onClient(client))
        if (tls) {
            this.http = https.createServer({ cert: tls.cert, key: tls.key }, (req, res) => {
                res.statusCode = 404
                res.end()
            })
            this.http.on("upgrade", this.server.handleUpgrade)
            await new Promise((resolve, reject) => {
                this.http.once("error", reject)
                this.http.listen(port, host, resolve)
            })
        } else this.http = await this.server.listen(port, host)
        this.port = this.http.address().port
        this.url = `${tls ? "wss" : "ws"}://${tls?.hostname ?? host}:${this.port}/ocpp`
        return this
    }

    async close() {
        await this.server?.close({ code: 1001, awaitPending: false, force: true })
        if (this.http?.listening) await new Promise(r => this.http.close(r))
    }

    record(identity, dir, text) {
        let frame
        try {
            frame = JSON.parse(text)
        } catch {
            frame = null
        }
        const entry = {
            seq: ++this.seq,
            time: new Date().toISOString(),
            identity,
            dir, // "in" = from the charge point, "out" = to the charge point
            type: Array.isArray(frame) ? frame[0] : null,
            id: Array.isArray(frame) ? frame[1] : null,
            action: Array.isArray(frame) && frame[0] === 2 ? frame[2] : null,
            payload: Array.isArray(frame) ? (frame[0] === 2 ? frame[3] : frame[0] === 3 ? frame[2] : frame.slice(2)) : text,
        }
        if (entry.type !== 2 && entry.id) {
            const call = [...this.log].reverse().find(e => e.type === 2 && e.id === entry.id && e.dir !== dir)
            if (call) entry.action = call.action
        }
        this.log.push(entry)
        if (this.log.length > 5000) this.log.splice(0, 2500)
        if (!this.o.quiet) console.log(`[csms] ${dir === "in" ? "<-" : "->"} ${identity} ${text.length > 400 ? text.slice(0, 400) + "..." : text}`)
        this.emit("message", entry)
    }

    onClient(client) {
        const id = client.identity
        this.connects++
        this.clients.set(id, client)
        client.on("message", ({ message, outbound }) => this.record(id, outbound ? "out" : "in", message.toString()))
        client.on("badMessage", ({ buffer, error }) => {
            this.errors.push({ identity: id, kind: "badMessage", message: error.message, text: buffer.toString() })
            this.emit("protocolError", this.errors[this.errors.length - 1])
        })
        client.on("strictValidationFailure", e => {
            this.errors.push({ identity: id, kind: "schema", outbound: e.outbound, method: e.method, message: e.error.message })
            this.emit("protocolError", this.errors[this.errors.length - 1])
        })
        client.on("close", () => {
            if (this.clients.get(id) === client) this.clients.delete(id)
            this.emit("disconnect", id)
        })
        const now = () => new Date().toISOString()
        client.handle("BootNotification", () => {
            const status = this.o.bootStatus
            if (status === "Accepted" && this.o.configureOnBoot) {
                this.configured[id] = false
                setTimeout(() => this.configure(id), 50)
            }
            return {
                status,
                currentTime: now(),
                interval: status === "Accepted" ? this.o.heartbeatInterval : this.o.bootRetryInterval ?? 10,
            }
        })
        client.handle("Heartbeat", () => ({ currentTime: now() }))
        client.handle("StatusNotification", () => ({}))
        client.handle("Authorize", ({ params }) => ({ idTagInfo: this.idTagInfo(params.idTag) }))
        client.handle("StartTransaction", ({ params }) => {
            // a charge point redelivers a StartTransaction whose answer a power cut took
            // (at-least-once): an identical one is the same transaction, not a second one
            const key = [id, params.connectorId, params.idTag, params.timestamp, params.meterStart, params.reservationId].join("|")
            const known = this.startKeys.get(key)
            if (known !== undefined) {
                this.redelivered.push({ identity: id, action: "StartTransaction", transactionId: known })
                return { transactionId: known, idTagInfo: this.idTagInfo(params.idTag) }
            }
            const transactionId = this.nextTxId++
            this.startKeys.set(key, transactionId)
            this.transactions.set(transactionId, { identity: id, start: params, meterValues: [], stop: null })
            return { transactionId, idTagInfo: this.idTagInfo(params.idTag) }
        })
        client.handle("StopTransaction", ({ params }) => {
            const tx = this.transactions.get(params.transactionId)
            if (tx?.stop && tx.stop.timestamp === params.timestamp && tx.stop.meterStop === params.meterStop)
                this.redelivered.push({ identity: id, action: "StopTransaction", transactionId: params.transactionId })
            else if (tx) tx.stop = params
            return params.idTag ? { idTagInfo: this.idTagInfo(params.idTag) } : {}
        })
        client.handle("MeterValues", ({ params }) => {
            const tx = this.transactions.get(params.transactionId)
            if (tx) tx.meterValues.push(params)
            return {}
        })
        client.handle("DataTransfer", () => ({ status: "UnknownVendorId" }))
        client.handle("DiagnosticsStatusNotification", () => ({}))
        client.handle("FirmwareStatusNotification", () => ({}))
        client.handle("SecurityEventNotification", () => ({}))
        client.handle("LogStatusNotification", () => ({}))
        client.handle("SignCertificate", () => ({ status: "Accepted" }))
        for (const [action, fn] of Object.entries(this.o.handlers ?? {})) client.handle(action, fn)
        client.handle(({ method }) => {
            throw createRPCError("NotImplemented", `${method} is not handled by this central system`)
        })
        this.emit("connect", id)
    }

    async configure(identity) {
        for (const [key, value] of Object.entries(this.o.configureOnBoot)) {
            try {
                const r = await this.call(identity, "ChangeConfiguration", { key, value })
                if (!this.o.quiet) console.log(`[csms] ${identity}: ${key}=${value} ${r.status}`)
            } catch (e) {
                if (!this.o.quiet) console.log(`[csms] ${identity}: ${key}: ${e.message}`)
            }
        }
        this.configured[identity] = true
        this.emit("configured", identity)
    }

    idTagInfo(idTag) {
        if (this.o.authorize) return this.o.authorize(idTag)
        return { status: "Accepted" }
    }

    /** Send a request to a connected charge point; resolves with its answer. */
    async call(identity, method, params = {}) {
        const client = this.clients.get(identity)
        if (!client) throw new Error(`${identity} is not connected`)
        return await client.call(method, params)
    }

    /** Messages of the log, optionally filtered. */
    messages({ action, dir, type, identity } = {}) {
        return this.log.filter(
            e =>
                (action === undefined || e.action === action) &&
                (dir === undefined || e.dir === dir) &&
                (type === undefined || e.type === type) &&
                (identity === undefined || e.identity === identity)
        )
    }
}
