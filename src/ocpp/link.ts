// The link to the central system: connect, receive and dispatch, reconnect with
// exponential backoff after any drop. Runs in its own fiber and never sends CALLs
// itself (a CALL waits for an answer that only this fiber can receive).
import * as ds from "@devicescript/core"
import { wsConnect, wsReceive, wsClose, WsError } from "./ws"
import { rpcHandleMessage, rpcLinkDown } from "./rpc"

export const BACKOFF_MIN_MS = 1000
export const BACKOFF_MAX_MS = 30000

/** Where and how to connect: the full URL (with the charge point id) and the Authorization header. */
export interface LinkTarget {
    url: string
    authorization: string
}

export const link = {
    connected: false,
    /** Why the last attempt failed or the link dropped ("" while connected). */
    lastError: "",
    /** HTTP status of the last refused upgrade (401: wrong password). */
    lastStatus: 0,
    connects: 0,
    reconnectRequested: false,
}

/** Called when the link comes up (true) or goes down (false). */
let onLinkChange: (up: boolean) => void

/** Ask for a reconnect once the current message is handled (new URL or key). */
export function linkReconnect() {
    link.reconnectRequested = true
}

/**
 * Run the link forever.
 * @param target returns where to connect, or undefined while not provisioned
 */
export async function linkRun(target: () => Promise<LinkTarget>, onChange: (up: boolean) => void) {
    onLinkChange = onChange
    let backoffMs = BACKOFF_MIN_MS
    for (;;) {
        const t = await target()
        if (!t) {
            await ds.sleep(1000)
            continue
        }
        link.reconnectRequested = false
        try {
            await wsConnect(t.url, t.authorization)
            link.connected = true
            link.lastError = ""
            link.lastStatus = 0
            link.connects++
            backoffMs = BACKOFF_MIN_MS
            onLinkChange(true)
            for (;;) {
                const m = await wsReceive(1000)
                if (m === null) break
                if (m !== undefined) await rpcHandleMessage(m)
                if (link.reconnectRequested) {
                    await wsClose(1000)
                    break
                }
            }
            link.lastError = "closed"
        } catch (e) {
            link.lastError = e instanceof Error ? e.message : "" + e
            if (e instanceof WsError) link.lastStatus = (e as WsError).status
        }
        if (link.connected) {
            link.connected = false
            rpcLinkDown()
            onLinkChange(false)
        }
        if (link.reconnectRequested) continue
        console.log("link down: " + link.lastError + "; retry in " + backoffMs + " ms")
        await ds.sleep(backoffMs + Math.randomInt(backoffMs >> 2))
        backoffMs = Math.min(backoffMs * 2, BACKOFF_MAX_MS)
    }
}
