// DataTransfer: the seed's vendor messages (seed §6.2.2 CTEP, §6.2.3 FeliCa).
//
// From the central system (answer = DataTransfer.conf status):
// - vendorId other than "ABB" and "org.openchargealliance.costmsg": UnknownVendorId;
//   a known vendorId with another messageId: UnknownMessageId (OCA TC_062);
// - CTEP price and cost display, as the seed and the OCA California pricing whitepaper
//   define it: SetUserPrice (vendor "ABB" as in the seed, or the whitepaper's costmsg
//   vendor), RunningCost and FinalCost (costmsg vendor). While CustomDisplayCostAndPrice
//   is false they are Rejected: known messages of a function that is switched off.
//   Malformed `data` or a transaction that is not ours: Rejected.
// To the central system: EneKeyData before the Authorize of a FeliCa card.
//
// The texts live in RAM only: they belong to one session and the central system sends
// them again (a RunningCost every minute would wear the flash).
import { configBool, configGet } from "../store/config"
import { rpcCall } from "./rpc"

const COSTMSG_VENDOR = "org.openchargealliance.costmsg"
/** Longest text kept for the display (a board cuts it further to what its display takes). */
export const DISPLAY_TEXT_MAX_CHARS = 236

/** SetUserPrice text, and the idTag it is for. */
let userFor: string
let userText: string
/** RunningCost of transaction runTx: cost and price, as display text. */
let runTx: number
let runCost: string
let runPrice: string
/** FinalCost of transaction finalTx (finalText undefined: none to show). */
let finalTx: number
let finalText: string
let finalCost: string
let finalQr: string
/** Cable state when the FinalCost was first shown; undefined until then. */
let finalPlugged: boolean
/** DefaultPrice as last parsed (the configuration value, and its two texts). */
let defaultRaw: string
let defaultText: string
let defaultOffline: string

function parseJson(text: string): any {
    try {
        return JSON.parse(text)
    } catch {
        return undefined
    }
}

/** A text field cut to DISPLAY_TEXT_MAX_CHARS (the heap is small); undefined if not a string. */
export function displayText(v: any): string {
    return typeof v === "string" ? v.slice(0, DISPLAY_TEXT_MAX_CHARS) : undefined
}

/** A cost with two decimals ("3.31", "1.00"): 1.6 has no currency or decimals key. Costs are not negative. */
export function money(v: number) {
    const cents = Math.round(v * 100)
    return Math.floor(cents / 100) + "." + ("" + (100 + (cents % 100))).slice(1)
}

function pricePart(text: string, v: any, unit: string) {
    // "v > 0", not "v": the VM takes a fraction between -1 and 1 for false
    return v > 0 ? (text ? text + " + " : "") + v + unit : text
}

/**
 * Status of the answer to an incoming DataTransfer (schema already checked); stores
 * what an accepted CTEP message carries.
 * @param txId central system id of the running transaction, or of the last one that ended
 * @param txActive whether txId is still running
 */
export function dataTransferStatus(p: any, txId: number, txActive: boolean): string {
    const costmsg = p.vendorId === COSTMSG_VENDOR
    if (!costmsg && p.vendorId !== "ABB") return "UnknownVendorId"
    const m = p.messageId
    const user = m === "SetUserPrice"
    const running = costmsg && m === "RunningCost"
    if (!user && !running && !(costmsg && m === "FinalCost")) return "UnknownMessageId"
    const d = parseJson(p.data)
    if (!configBool("CustomDisplayCostAndPrice") || !d || typeof d !== "object") return "Rejected"
    const text = displayText(d.priceText)
    const cost = money(d.cost)
    if (user) {
        if (typeof d.idToken !== "string" || !d.idToken || text === undefined) return "Rejected"
        userFor = d.idToken
        userText = text
    } else if (d.transactionId !== txId || typeof d.cost !== "number" || (running ? !txActive : text === undefined)) {
        // RunningCost: the running transaction only; FinalCost: the running or the last one
        return "Rejected"
    } else if (running) {
        runTx = txId
        runCost = cost
        const c = d.chargingPrice || {}
        runPrice = pricePart(pricePart(pricePart("", c.kWhPrice, "/kWh"), c.hourPrice, "/h"), c.flatFee, " flat")
    } else {
        finalTx = txId
        finalText = text
        finalCost = cost
        finalQr = displayText(d.qrCodeText) || ""
        finalPlugged = undefined
    }
    return "Accepted"
}

/** DefaultPrice's priceText, or its priceTextOffline (else priceText) when offline. */
function defaultPrice(online: boolean) {
    const raw = configGet("DefaultPrice")
    if (raw !== defaultRaw) {
        defaultRaw = raw
        const d = parseJson(raw) || {}
        defaultText = displayText(d.priceText) || ""
        defaultOffline = displayText(d.priceTextOffline) || defaultText
    }
    return online ? defaultText : defaultOffline
}

/**
 * The price screen (seed §6.2.2) as [price text, cost, QR-code text], "" where there is
 * nothing; all "" while CustomDisplayCostAndPrice is false. Idle: DefaultPrice; a user
 * identified: their SetUserPrice; in a transaction: its RunningCost; after it: its
 * FinalCost, until the cable is plugged in or out or a new session is authorised.
 * @param tag idTag of the session (running, or authorised and waiting), "" for none
 */
export function priceScreen(online: boolean, plugged: boolean, tag: string, txId: number, txActive: boolean): string[] {
    let price = ""
    let cost = ""
    let qr = ""
    if (configBool("CustomDisplayCostAndPrice")) {
        if (finalText !== undefined && !(txActive && txId === finalTx)) {
            if (finalPlugged === undefined) finalPlugged = plugged
            if (plugged !== finalPlugged || tag) finalText = undefined
        }
        if (finalText !== undefined && !txActive) {
            price = finalText
            cost = finalCost
            qr = finalQr
        } else {
            price = tag === userFor ? userText : defaultPrice(online)
            if (txActive && txId === runTx) {
                price = runPrice || price
                cost = runCost
            }
        }
    }
    return [price, cost, qr]
}

/**
 * FelicaAdvancedAuthorization (seed §6.2.3): before the Authorize of a FeliCa card its
 * EneKey data and Data Format Code go to the central system; the answer, a CALLERROR
 * or no answer change nothing (the Authorize decides).
 * @param card the FeliCa card last read (Hardware.felica: IDm 8, DFC 2, EneKey data), or undefined
 * @param idTag the idTag about to be authorised: only the IDm of that card triggers it
 */
export async function felicaBeforeAuthorize(card: Buffer, idTag: string) {
    if (!card || !configBool("FelicaAdvancedAuthorization")) return
    const hex = card.toString("hex").toUpperCase()
    if (hex.slice(0, 16) !== idTag) return
    try {
        await rpcCall("DataTransfer", {
            vendorId: "ABB",
            messageId: "EneKeyData",
            data: '{"EneKeyData":"' + hex.slice(20) + '","DataFormatCode":"' + hex.slice(16, 20) + '","idTag":"' + idTag + '"}',
        })
    } catch {}
}
