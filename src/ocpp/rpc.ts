// OCPP-J RPC: CALL / CALLRESULT / CALLERROR framing over the WebSocket.
//
// Rules (OCPP-J 1.6 §4; the check order follows ocpp-rpc):
// - one outgoing CALL at a time; the next waits until the answer or the timeout;
// - an incoming CALL is validated against its spec and dispatched to the handler;
//   every failure becomes a CALLERROR with the matching code, so that no input from
//   the network can stop the firmware (never-crash rule);
// - CALLRESULT / CALLERROR frames are never answered; unknown ids are dropped.
import * as ds from "@devicescript/core"
import { hasSpec, validate, validationError } from "./schema"
import { wsIsOpen, wsOversizeLength, wsSendText, wsSendTextStream, WS_MAX_MESSAGE_BYTES } from "./ws"
import { toJson } from "../util/json"

export const enum MessageType {
    Call = 2,
    CallResult = 3,
    CallError = 4,
}

/** Default time to wait for the answer to a CALL. */
export const CALL_TIMEOUT_MS = 30000

/**
 * An OCPP-J error: thrown by handlers to answer a CALL with CALLERROR, and by rpcCall
 * when the central system answered with CALLERROR (code from the frame) or when there
 * was no answer (code "Timeout" or "NotConnected", local only).
 */
export class CallError extends Error {
    constructor(public code: string, description: string) {
        super(description)
        this.name = "CallError"
    }
}

/**
 * Handles one incoming CALL whose payload already passed its spec.
 * Returns the CALLRESULT payload — an object, or for long answers a function returning
 * the payload's JSON text part by part (undefined after the last part), streamed in
 * WebSocket fragments — or undefined for "recognised but not supported".
 */
export type CallHandler = (action: string, payload: any) => Promise<any>

let callHandler: CallHandler
/** Incoming CALLs are ignored while false (BootNotification Rejected, OCPP 1.6 §4.2.1). */
export let rpcAcceptCalls = true
let idPrefix: string
let idCounter = 0
let callBusy = false
const callFree = ds.emitter<number>()
let pendingId: string
let pendingFrame: any[]
const answered = ds.emitter<number>()
/** ds.millis() of the last CALLRESULT the central system sent us. */
export let rpcLastAnswerMs = 0

let afterReply: () => void

/** Run `fn` once the answer to the CALL being handled has been sent. */
export function rpcAfterReply(fn: () => void) {
    afterReply = fn
}

export function rpcOnCall(handler: CallHandler) {
    callHandler = handler
}

export function rpcSetAcceptCalls(accept: boolean) {
    rpcAcceptCalls = accept
}

/** Wake any CALL waiting for an answer after the link dropped. */
export function rpcLinkDown() {
    answered.emit(0)
}

function nextId() {
    if (!idPrefix) {
        // ids stay unique across reboots as well as within a connection
        const r = Buffer.alloc(3)
        ;(r as any).fillRandom()
        idPrefix = r.toString("hex") + "-"
    }
    return idPrefix + ++idCounter
}

/**
 * Send a CALL and wait for its answer (one outstanding CALL at a time).
 * The answer is checked against the action's ".conf" spec when there is one.
 * @returns the CALLRESULT payload
 * @throws CallError on CALLERROR, malformed answer, timeout or a dropped link
 */
export async function rpcCall(action: string, payload: any, timeoutMs = CALL_TIMEOUT_MS): Promise<any> {
    while (callBusy) await ds.wait(callFree, 1000)
    callBusy = true
    try {
        if (!wsIsOpen()) throw new CallError("NotConnected", action)
        const id = nextId()
        pendingId = id
        pendingFrame = undefined
        await wsSendText(toJson([MessageType.Call, id, action, payload]))
        const deadline = ds.millis() + timeoutMs
        while (!pendingFrame && wsIsOpen() && ds.millis() < deadline) await ds.wait(answered, deadline - ds.millis())
        const frame = pendingFrame
        pendingId = undefined
        pendingFrame = undefined
        if (!frame) throw new CallError(wsIsOpen() ? "Timeout" : "NotConnected", action)
        if (frame[0] === MessageType.CallError) {
            const code = typeof frame[2] === "string" ? frame[2] : "GenericError"
            throw new CallError(code, typeof frame[3] === "string" ? frame[3] : "")
        }
        const result = frame[2]
        const spec = action + ".conf"
        if (hasSpec(spec)) {
            const err = validate(result, spec)
            if (err) throw new CallError(err, action + ".conf: " + validationError)
        }
        rpcLastAnswerMs = ds.millis()
        return result
    } finally {
        callBusy = false
        callFree.emit(0)
    }
}

/** A CALL id found by scanning a frame that did not parse: `[2,"<id>"`. */
export function callIdFromText(text: string): string {
    let i = 0
    while (text.charCodeAt(i) <= 32) i++
    if (text[i] !== "[") return undefined
    i++
    while (text.charCodeAt(i) <= 32) i++
    if (text[i] !== "2") return undefined
    i++
    while (text.charCodeAt(i) <= 32 || text[i] === ",") i++
    if (text[i] !== '"') return undefined
    const end = text.indexOf('"', i + 1)
    if (end < 0 || end - i > 37) return undefined
    return text.slice(i + 1, end)
}

async function sendCallError(id: string, code: string, description: string) {
    // ErrorDescription is free text; keep it short and ASCII-safe through toJson
    await wsSendText(toJson([MessageType.CallError, id, code, description.slice(0, 255), {}]))
}

/** Process one received text message. Never throws. */
export async function rpcHandleMessage(text: string) {
    try {
        await handleFrame(text)
    } catch (e) {
        // only a send on a dropped link ends up here; the link layer reconnects
    }
}

async function handleFrame(text: string) {
    if (!text) return
    if (wsOversizeLength) {
        const id = callIdFromText(text)
        if (id !== undefined)
            await sendCallError(
                id,
                "GenericError",
                "message of " + wsOversizeLength + " bytes exceeds the " + WS_MAX_MESSAGE_BYTES + "-byte limit"
            )
        return
    }
    let frame: any
    try {
        frame = JSON.parse(text)
    } catch {
        frame = undefined
    }
    if (!Array.isArray(frame)) {
        const id = callIdFromText(text)
        if (id !== undefined) await sendCallError(id, "FormationViolation", "message is not a JSON array")
        return
    }
    const type = frame[0]
    const id = frame[1]
    if (typeof id !== "string" || id.length > 36) {
        // without a usable id there is nothing to correlate an answer with
        return
    }
    if (type === MessageType.CallResult || type === MessageType.CallError) {
        if (id === pendingId && !pendingFrame) {
            pendingFrame = frame
            answered.emit(0)
        }
        return
    }
    if (type !== MessageType.Call) {
        if (typeof type === "number") await sendCallError(id, "FormationViolation", "unknown message type " + type)
        return
    }
    if (!rpcAcceptCalls) return
    const action = frame[2]
    const payload = frame[3]
    if (typeof action !== "string") return await sendCallError(id, "FormationViolation", "action must be a string")
    if (frame.length < 4) return await sendCallError(id, "ProtocolError", "payload missing")
    if (frame.length > 4) return await sendCallError(id, "FormationViolation", "CALL has more than 4 elements")
    if (text.indexOf("\uFFFD") >= 0) return await sendCallError(id, "GenericError", "message is not valid UTF-8")
    if (!hasSpec(action) || action[0] === "~" || action.indexOf(".") >= 0)
        return await sendCallError(id, "NotImplemented", "unknown action " + action)
    const bad = validate(payload, action)
    if (bad) return await sendCallError(id, bad, validationError)
    let result: any
    afterReply = undefined
    try {
        result = callHandler ? await callHandler(action, payload) : undefined
    } catch (e) {
        if (e instanceof CallError) return await sendCallError(id, e.code, e.message)
        // a bug must not take the charge point down: report it and carry on
        console.log("handler " + action + " failed: " + e)
        return await sendCallError(id, "InternalError", "")
    }
    if (result === undefined) return await sendCallError(id, "NotSupported", action + " is not supported")
    if (typeof result === "function") {
        const next = result as () => Promise<string>
        let stage = 0
        await wsSendTextStream(async () => {
            if (stage === 0) {
                stage = 1
                return "[3," + toJson(id) + ","
            }
            const part = stage === 1 ? await next() : undefined
            if (part !== undefined) return part
            if (stage === 2) return undefined
            stage = 2
            return "]"
        })
    } else await wsSendText(toJson([MessageType.CallResult, id, result]))
    if (afterReply) afterReply()
}
