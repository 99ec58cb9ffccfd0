// WebSocket client (RFC 6455) for OCPP-J over the runtime's single TCP/TLS socket.
//
// The runtime has exactly one socket (fetch and MQTT share it), so this module owns it
// as module state. Natives are used directly: the stock `Socket.send` never retries
// when the ESP32 send queue is full. Reads arrive as chunks (≤ 1024 B on ESP32) that
// are copied straight into a message buffer sized from the frame header; writes are
// masked 4 bytes at a time and sent in ≤ 1 KiB pieces (TLS writes ≥ 4 KiB can assert
// on ESP32), yielding between pieces to stay inside the VM's per-slice budget.
import * as ds from "@devicescript/core"
import { base64Encode } from "../util/encoding"
import { sha1 } from "../util/sha1"

type DsSockets = typeof ds & {
    _socketOpen(host: string, port: number): number
    _socketClose(): number
    _socketWrite(buf: Buffer | string): number
    _socketOnEvent(event: string, arg?: Buffer | string): void
}

/** Largest message accepted; longer ones are skipped (prefix kept) — see wsReceive. */
export const WS_MAX_MESSAGE_BYTES = 8192
/** Bytes of an oversize message kept so the RPC layer can still answer its CALL. */
export const WS_OVERSIZE_PREFIX_BYTES = 200
const WRITE_PIECE_BYTES = 1024
const HANDSHAKE_TIMEOUT_MS = 15000
const FRAME_STALL_TIMEOUT_MS = 30000
const MAX_HEADER_LINE_BYTES = 2048
const WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

export const enum WsOp {
    Continuation = 0,
    Text = 1,
    Binary = 2,
    Close = 8,
    Ping = 9,
    Pong = 10,
}

/** An error with the reason a connection attempt or link failed (for logs and backoff). */
export class WsError extends Error {
    /** HTTP status of a refused upgrade, 0 for transport and protocol failures */
    constructor(message: string, public status: number) {
        super(message)
        this.name = "WsError"
    }
}

// ---- socket state (one socket per VM) ----
// (assigning Array.length breaks arrays in this runtime: replace the array instead)
let rx: Buffer[] = []
let rxOff = 0
let sockOpen = false
let sockClosed = true
let sockError: string
const sockEvent = ds.emitter<number>()

function onSocketEvent(event: string, arg?: Buffer | string) {
    if (event === "data") rx.push(arg as Buffer)
    else if (event === "open") sockOpen = true
    else {
        if (event === "error") sockError = arg + ""
        sockOpen = false
        sockClosed = true
    }
    sockEvent.emit(0)
}

/** Copy n received bytes into dst at off (dst undefined: skip them). False on close/timeout. */
async function rxTake(dst: Buffer, off: number, n: number, timeoutMs: number) {
    const deadline = ds.millis() + timeoutMs
    while (n > 0) {
        if (!rx.length) {
            if (sockClosed) return false
            const left = deadline - ds.millis()
            if (left <= 0) return false
            await ds.wait(sockEvent, left)
            continue
        }
        const chunk = rx[0]
        let take = chunk.length - rxOff
        if (take > n) take = n
        if (dst) dst.blitAt(off, chunk, rxOff, take)
        off += take
        n -= take
        rxOff += take
        if (rxOff >= chunk.length) {
            rx.shift()
            rxOff = 0
        }
    }
    return true
}

/** One CRLF- or LF-terminated line of the HTTP response, without the terminator. */
async function rxLine(timeoutMs: number) {
    const parts: Buffer[] = []
    let total = 0
    const deadline = ds.millis() + timeoutMs
    for (;;) {
        if (!rx.length) {
            const left = deadline - ds.millis()
            if (sockClosed || left <= 0) return undefined
            await ds.wait(sockEvent, left)
            continue
        }
        const chunk = rx[0]
        const nl = chunk.indexOf(10, rxOff)
        const end = nl < 0 ? chunk.length : nl
        parts.push(chunk.slice(rxOff, end))
        total += end - rxOff
        if (total > MAX_HEADER_LINE_BYTES) return undefined
        if (nl < 0) {
            rx.shift()
            rxOff = 0
            continue
        }
        rxOff = nl + 1
        if (rxOff >= chunk.length) {
            rx.shift()
            rxOff = 0
        }
        let line = Buffer.concat(...parts)
        if (line.length && line[line.length - 1] === 13) line = line.slice(0, line.length - 1)
        return line.toString("utf-8")
    }
}

async function rawWrite(buf: Buffer | string) {
    // -1 means the ESP32 send queue (50 entries) is full: wait for it to drain
    for (let attempt = 0; ; attempt++) {
        if (!sockOpen) throw new WsError("socket closed", 0)
        const r = (ds as DsSockets)._socketWrite(buf)
        if (r === 0) return
        if (r !== -1 || attempt > 200) throw new WsError("send error " + r, 0)
        await ds.sleep(10)
    }
}

function closeSocket() {
    if (!sockClosed) (ds as DsSockets)._socketClose()
    sockOpen = false
    sockClosed = true
    rx = []
    rxOff = 0
}

// ---- URL ----

/** Parts of a ws:// or wss:// URL; undefined when it is not one. */
export interface WsUrl {
    tls: boolean
    host: string
    port: number
    path: string
}

export function parseWsUrl(url: string): WsUrl {
    let tls: boolean
    let rest: string
    if (url.startsWith("ws://")) {
        tls = false
        rest = url.slice(5)
    } else if (url.startsWith("wss://")) {
        tls = true
        rest = url.slice(6)
    } else return undefined
    let slash = rest.indexOf("/")
    if (slash < 0) slash = rest.length
    const hostPort = rest.slice(0, slash)
    let path = rest.slice(slash)
    if (!path) path = "/"
    // IPv6 literals are not supported by the runtime's socket API
    const colon = hostPort.indexOf(":")
    let host = hostPort
    let port = tls ? 443 : 80
    if (colon >= 0) {
        host = hostPort.slice(0, colon)
        port = parseInt(hostPort.slice(colon + 1))
        if (!(port > 0 && port < 65536)) return undefined
    }
    if (!host) return undefined
    return { tls, host, port, path }
}

// ---- framing ----

/**
 * Frame header (FIN, opcode, mask bit, length, masking key) for a client frame of
 * `len` payload bytes. The runtime allocates at most 57 344 bytes at once, so the
 * 64-bit length form is never needed.
 */
function frameHeader(opcode: number, len: number, maskKey: Buffer, fin = true) {
    const ext = len < 126 ? 0 : 2
    const hdr = Buffer.alloc(6 + ext)
    hdr[0] = (fin ? 0x80 : 0) | opcode
    hdr[1] = 0x80 | (ext ? 126 : len)
    if (ext) {
        hdr[2] = len >> 8
        hdr[3] = len & 255
    }
    hdr.blitAt(2 + ext, maskKey, 0, 4)
    return hdr
}

/**
 * Build one client frame. The payload is XOR-masked with `maskKey` (4 bytes),
 * as RFC 6455 §5.3 requires of every client-to-server frame.
 */
export function encodeFrame(opcode: number, payload: Buffer, maskKey: Buffer, fin = true) {
    const n = payload.length
    const hdr = frameHeader(opcode, n, maskKey, fin)
    const frame = Buffer.alloc(hdr.length + n)
    frame.blitAt(0, hdr, 0, hdr.length)
    frame.blitAt(hdr.length, payload, 0, n)
    maskInPlace(frame, hdr.length, n, maskKey.getAt(0, "i32"))
    return frame
}

/** XOR `len` bytes at `off` with the mask word (the 4 key bytes read little-endian). */
export function maskInPlace(buf: Buffer, off: number, len: number, maskWord: number) {
    const words = len >> 2
    let p = off
    for (let i = 0; i < words; i++) {
        buf.setAt(p, "i32", buf.getAt(p, "i32") ^ maskWord)
        p += 4
    }
    for (let k = 0; p < off + len; k++) {
        buf[p] ^= (maskWord >> (8 * k)) & 255
        p++
    }
}

/**
 * Parse a server frame header from its first bytes.
 * @returns [opcode | 0x80 if FIN, header length, payload length], header length 0 if
 *  more bytes are needed, or undefined for a frame no server may send (masked, RSV bits).
 */
export function decodeFrameHeader(b: Buffer, avail: number): number[] {
    if (avail < 2) return [0, 0, 0]
    if (b[0] & 0x70 || b[1] & 0x80) return undefined
    let len = b[1] & 0x7f
    let hdr = 2
    if (len === 126) {
        hdr = 4
        if (avail < hdr) return [0, 0, 0]
        len = (b[2] << 8) | b[3]
    } else if (len === 127) {
        hdr = 10
        if (avail < hdr) return [0, 0, 0]
        // a length of 2^32 or more cannot be meant for this device
        if (b[2] | b[3] | b[4] | b[5]) return undefined
        len = ((b[6] << 24) >>> 0) + ((b[7] << 16) | (b[8] << 8) | b[9])
    }
    return [b[0] & 0x8f, hdr, len]
}

// ---- connection ----

let pingIntervalMs = 0
let lastRxMs = 0
let lastPingMs = 0
let pingOutstanding = false
let sending = false
const sendDone = ds.emitter<number>()

/** Client ping period (WebSocketPingInterval, seconds; 0 disables). Applies immediately. */
export function wsSetPingInterval(seconds: number) {
    pingIntervalMs = seconds * 1000
}

export function wsIsOpen() {
    return sockOpen
}

/**
 * Open the socket and perform the HTTP upgrade with subprotocol `ocpp1.6`.
 * @param url central system URL including the charge point id
 * @param authorization value of the Authorization header, or undefined
 * @throws WsError with the HTTP status when the server refuses the upgrade
 */
export async function wsConnect(url: string, authorization: string) {
    const u = parseWsUrl(url)
    if (!u) throw new WsError("bad URL " + url, 0)
    closeSocket()
    ;(ds as DsSockets)._socketOnEvent = onSocketEvent
    sockClosed = false
    sockOpen = false
    sockError = undefined
    const r = (ds as DsSockets)._socketOpen(u.host, u.tls ? -u.port : u.port)
    if (r !== 0) {
        sockClosed = true
        throw new WsError("can't connect: " + r, 0)
    }
    const deadline = ds.millis() + HANDSHAKE_TIMEOUT_MS
    while (!sockOpen && !sockClosed && ds.millis() < deadline) await ds.wait(sockEvent, deadline - ds.millis())
    if (!sockOpen) {
        const why = sockError || "connect timeout"
        closeSocket()
        throw new WsError(why, 0)
    }
    const keyBytes = Buffer.alloc(16)
    ;(keyBytes as any).fillRandom()
    const key = base64Encode(keyBytes)
    const defaultPort = u.port === (u.tls ? 443 : 80)
    const req =
        "GET " + u.path + " HTTP/1.1\r\nHost: " + u.host + (defaultPort ? "" : ":" + u.port) +
        "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key +
        "\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ocpp1.6\r\n" +
        (authorization ? "Authorization: " + authorization + "\r\n" : "") +
        "\r\n"
    try {
        await rawWrite(req)
        const status = await rxLine(deadline - ds.millis())
        if (!status || !status.startsWith("HTTP/1.")) throw new WsError("no HTTP response", 0)
        const code = parseInt(status.slice(9, 12))
        let accept: string
        let proto: string
        let upgrade = false
        for (;;) {
            const line = await rxLine(deadline - ds.millis())
            if (line === undefined) throw new WsError("truncated HTTP response", code)
            if (!line) break
            const colon = line.indexOf(":")
            if (colon < 0) continue
            const name = line.slice(0, colon).toLowerCase()
            const value = line.slice(colon + 1).trim()
            if (name === "sec-websocket-accept") accept = value
            else if (name === "sec-websocket-protocol") proto = value
            else if (name === "upgrade") upgrade = value.toLowerCase() === "websocket"
        }
        if (code !== 101) throw new WsError("upgrade refused: " + status.slice(9), code)
        if (!upgrade) throw new WsError("no Upgrade: websocket", code)
        if (accept !== base64Encode(sha1(Buffer.from(key + WS_GUID))))
            throw new WsError("bad Sec-WebSocket-Accept", code)
        if (proto !== "ocpp1.6") throw new WsError("server chose subprotocol " + proto, code)
    } catch (e) {
        closeSocket()
        throw e
    }
    lastRxMs = ds.millis()
    lastPingMs = lastRxMs
    pingOutstanding = false
}

/** Send one frame; frames from concurrent fibers are serialised, never interleaved. */
/** Write one frame; the caller holds the send lock. */
async function writeFrame(opcode: number, payload: Buffer, fin: boolean) {
    const mask = Buffer.alloc(4)
    ;(mask as any).fillRandom()
    const n = payload.length
    if (n <= WRITE_PIECE_BYTES) return await rawWrite(encodeFrame(opcode, payload, mask, fin))
    // header first, then masked pieces of a multiple of 4 bytes (mask phase stays aligned)
    await rawWrite(frameHeader(opcode, n, mask, fin))
    const word = mask.getAt(0, "i32")
    for (let off = 0; off < n; off += WRITE_PIECE_BYTES) {
        // Buffer.slice does not clamp its end in this runtime: clamp it here
        const piece = payload.slice(off, Math.min(off + WRITE_PIECE_BYTES, n))
        maskInPlace(piece, 0, piece.length, word)
        await rawWrite(piece)
        await ds.sleep(1)
    }
}

/** Frames of concurrent fibers are serialised, never interleaved. */
async function lockSend() {
    while (sending) await ds.wait(sendDone, 1000)
    sending = true
}

function unlockSend() {
    sending = false
    sendDone.emit(0)
}

async function sendFrame(opcode: number, payload: Buffer) {
    await lockSend()
    try {
        await writeFrame(opcode, payload, true)
    } finally {
        unlockSend()
    }
}

/** Send a text message (one unfragmented frame). */
export async function wsSendText(text: string) {
    await sendFrame(WsOp.Text, Buffer.from(text))
}

/**
 * Send one text message made of parts, each its own frame (text, continuations, FIN on
 * the last: RFC 6455 §5.4), so that a long message never exists whole on the heap.
 * @param next returns the next part, or undefined after the last one
 */
export async function wsSendTextStream(next: () => Promise<string>) {
    await lockSend()
    try {
        let op = WsOp.Text
        let part = await next()
        while (part !== undefined) {
            const following = await next()
            await writeFrame(op, Buffer.from(part), following === undefined)
            op = WsOp.Continuation
            part = following
            await ds.sleep(1)
        }
    } finally {
        unlockSend()
    }
}

/**
 * Close handshake (RFC 6455 §5.5.1): send Close, wait briefly for the peer's Close,
 * then drop the socket. Safe to call when already closed.
 */
export async function wsClose(code: number) {
    if (sockOpen) {
        try {
            const p = Buffer.alloc(2)
            p[0] = code >> 8
            p[1] = code & 255
            await sendFrame(WsOp.Close, p)
            const deadline = ds.millis() + 2000
            while (sockOpen && ds.millis() < deadline) {
                const m = await wsReceive(deadline - ds.millis())
                if (m === null) break
            }
        } catch {}
    }
    closeSocket()
}

/**
 * Length of the message wsReceive just returned when it exceeded WS_MAX_MESSAGE_BYTES
 * (the text returned is then only its first WS_OVERSIZE_PREFIX_BYTES); 0 otherwise.
 */
export let wsOversizeLength = 0

/**
 * Next data message as text. Answers pings, sends client pings every
 * WebSocketPingInterval and drops a link whose pong is overdue.
 * @returns the message (see wsOversizeLength); undefined when nothing arrived in
 *  time; null when the link is closed
 */
export async function wsReceive(timeoutMs: number): Promise<string> {
    wsOversizeLength = 0
    const deadline = ds.millis() + timeoutMs
    const hb = Buffer.alloc(10)
    let msg: Buffer
    let msgLen = 0
    let oversize = 0
    for (;;) {
        if (sockClosed && !rx.length) return null
        // liveness: client ping, and give up when a ping went unanswered for a period
        const now = ds.millis()
        if (pingIntervalMs > 0 && sockOpen) {
            if (pingOutstanding && now - lastPingMs > pingIntervalMs) {
                closeSocket()
                return null
            }
            if (!pingOutstanding && now - lastRxMs >= pingIntervalMs) {
                lastPingMs = now
                pingOutstanding = true
                await sendFrame(WsOp.Ping, Buffer.alloc(0))
            }
        }
        if (!rx.length && (msg || oversize)) {
            // inside a fragmented message: only a stalled peer ends the wait
            await ds.wait(sockEvent, FRAME_STALL_TIMEOUT_MS)
            if (!rx.length) return await fail(1002)
            continue
        }
        // wait for the first header byte of the next frame
        if (!rx.length) {
            let wake = deadline - now
            if (pingIntervalMs > 0) {
                const toPing = (pingOutstanding ? lastPingMs : lastRxMs) + pingIntervalMs - now
                if (toPing < wake) wake = toPing
            }
            if (wake <= 0 && now >= deadline) return undefined
            await ds.wait(sockEvent, wake > 0 ? wake : 1)
            if (!rx.length && ds.millis() >= deadline) return undefined
            continue
        }
        if (!(await rxTake(hb, 0, 2, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
        let need = (hb[1] & 0x7f) === 126 ? 2 : (hb[1] & 0x7f) === 127 ? 8 : 0
        if (need && !(await rxTake(hb, 2, need, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
        const h = decodeFrameHeader(hb, 2 + need)
        if (!h) return await fail(1002)
        const op = h[0] & 0x0f
        const fin = h[0] & 0x80
        const len = h[2]
        lastRxMs = ds.millis()
        pingOutstanding = false
        if (op >= 8) {
            // control frames: ≤ 125 bytes, never fragmented (§5.5)
            if (len > 125 || !fin) return await fail(1002)
            const body = Buffer.alloc(len)
            if (!(await rxTake(body, 0, len, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
            if (op === WsOp.Ping) await sendFrame(WsOp.Pong, body)
            else if (op === WsOp.Close) {
                // echo the status code, then drop the socket (§5.5.1)
                try {
                    await sendFrame(WsOp.Close, len >= 2 ? body.slice(0, 2) : body)
                } catch {}
                closeSocket()
                return null
            } else if (op !== WsOp.Pong) return await fail(1002)
            continue
        }
        if (op === WsOp.Continuation ? !msg && !oversize : msg || oversize) return await fail(1002)
        if (op > WsOp.Binary) return await fail(1002)
        const total = msgLen + oversize + len
        if (!oversize && total <= WS_MAX_MESSAGE_BYTES) {
            const grown = Buffer.alloc(total)
            if (msg) grown.blitAt(0, msg, 0, msgLen)
            msg = grown
            if (!(await rxTake(msg, msgLen, len, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
            msgLen = total
        } else {
            // too large for this device: keep a prefix, skip the rest without buffering it
            if (!oversize) {
                const keep = Buffer.alloc(WS_OVERSIZE_PREFIX_BYTES)
                if (msg) keep.blitAt(0, msg, 0, Math.min(msgLen, WS_OVERSIZE_PREFIX_BYTES))
                msg = keep
                oversize = msgLen
                msgLen = 0
            }
            let skip = len
            const room = WS_OVERSIZE_PREFIX_BYTES - oversize
            if (room > 0) {
                const take = Math.min(room, skip)
                if (!(await rxTake(msg, oversize, take, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
                skip -= take
            }
            oversize += len
            while (skip > 0) {
                const step = Math.min(skip, 4096)
                if (!(await rxTake(undefined, 0, step, FRAME_STALL_TIMEOUT_MS))) return await fail(1002)
                skip -= step
                await ds.sleep(1)
            }
        }
        if (!fin) continue
        if (oversize) {
            wsOversizeLength = oversize
            return msg.toString("utf-8")
        }
        return msg.toString("utf-8")
    }
}

async function fail(code: number): Promise<string> {
    // protocol violation or stalled peer: close with a status, as §7.1.7 asks
    await wsClose(code)
    return null
}
