// DataTransfer: vendor and message ids (OCA TC_062), the seed's CTEP price and cost
// messages (§6.2.2) and what the display's price screen shows, FeliCa EneKeyData (§6.2.3).
import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { dataTransferStatus, priceScreen, money, displayText, felicaBeforeAuthorize, DISPLAY_TEXT_MAX_CHARS } from "../../src/ocpp/datatransfer"
import { packetText } from "../../src/hal/simboard"
import { configChange } from "../../src/store/config"
import { toJson } from "../../src/util/json"

const COSTMSG = "org.openchargealliance.costmsg"
const TX = 17

function call(vendorId: string, messageId: string, data: any, txId = TX, txActive = true) {
    return dataTransferStatus({ vendorId, messageId, data: typeof data === "string" ? data : toJson(data) }, txId, txActive)
}

/** The price screen as one string "price|cost|qr". */
function screen(online: boolean, plugged: boolean, tag: string, txId: number, txActive: boolean) {
    return priceScreen(online, plugged, tag, txId, txActive).join("|")
}

describe("DataTransfer from the central system", () => {
    beforeEach(yieldSlice)
    test("TC_062 unknown vendorId: UnknownVendorId; known vendor, unknown messageId: UnknownMessageId", () => {
        expect(dataTransferStatus({ vendorId: "com.example", messageId: "SetUserPrice" }, TX, true)).toBe("UnknownVendorId")
        expect(dataTransferStatus({ vendorId: "abb", messageId: "SetUserPrice" }, TX, true)).toBe("UnknownVendorId")
        expect(dataTransferStatus({ vendorId: "ABB" }, TX, true)).toBe("UnknownMessageId")
        expect(dataTransferStatus({ vendorId: "ABB", messageId: "RunningCost" }, TX, true)).toBe("UnknownMessageId")
        // EneKeyData goes to the central system only
        expect(dataTransferStatus({ vendorId: "ABB", messageId: "EneKeyData" }, TX, true)).toBe("UnknownMessageId")
        expect(dataTransferStatus({ vendorId: COSTMSG, messageId: "Hello" }, TX, true)).toBe("UnknownMessageId")
    })
    test("CTEP messages are Rejected while CustomDisplayCostAndPrice is false, and nothing is shown", async () => {
        expect(await configChange("CustomDisplayCostAndPrice", "false")).toBe("Accepted")
        expect(call("ABB", "SetUserPrice", { idToken: "04A1B2C3", priceText: "0.12 $/kWh" })).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", { transactionId: TX, cost: 1 })).toBe("Rejected")
        expect(call(COSTMSG, "FinalCost", { transactionId: TX, cost: 1, priceText: "done" })).toBe("Rejected")
        expect(await configChange("DefaultPrice", '{"priceText":"0.15 $/kWh"}')).toBe("Accepted")
        expect(screen(true, false, "", TX, false)).toBe("||")
    })
    test("DefaultPrice when idle, priceTextOffline when offline (priceText when it has none)", async () => {
        expect(await configChange("CustomDisplayCostAndPrice", "true")).toBe("Accepted")
        expect(screen(true, false, "", 0, false)).toBe("0.15 $/kWh||")
        expect(screen(false, false, "", 0, false)).toBe("0.15 $/kWh||")
        expect(await configChange("DefaultPrice", '{"priceText":"0.15 $/kWh","priceTextOffline":"Offline: 0.15 $/kWh"}')).toBe("Accepted")
        expect(screen(true, true, "", 0, false)).toBe("0.15 $/kWh||")
        expect(screen(false, true, "", 0, false)).toBe("Offline: 0.15 $/kWh||")
        expect(await configChange("DefaultPrice", "0")).toBe("Accepted")
        expect(screen(true, false, "", 0, false)).toBe("||")
    })
    test("malformed data is Rejected: not JSON, missing, not an object, fields missing or of the wrong type", () => {
        expect(call("ABB", "SetUserPrice", "{idToken: 1")).toBe("Rejected")
        expect(dataTransferStatus({ vendorId: "ABB", messageId: "SetUserPrice" }, TX, true)).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", "42")).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", "null")).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", '["04A1B2C3","x"]')).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", { idToken: "04A1B2C3" })).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", { idToken: "04A1B2C3", priceText: 12 })).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", { idToken: 4, priceText: "x" })).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", { transactionId: TX })).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", { transactionId: "17", cost: 1 })).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", { transactionId: TX, cost: "1.00" })).toBe("Rejected")
        expect(call(COSTMSG, "FinalCost", { transactionId: TX, cost: 1 })).toBe("Rejected")
    })
    test("SetUserPrice (seed's ABB vendor or the whitepaper's): shown while that user is identified; no idToken: Rejected", () => {
        expect(call("ABB", "SetUserPrice", { priceText: "0.12 $/kWh" }, 0, false)).toBe("Rejected")
        expect(call("ABB", "SetUserPrice", { idToken: "", priceText: "0.12 $/kWh" }, 0, false)).toBe("Rejected")
        // sent while the Authorize is answered: before the charge point knows the user
        expect(call("ABB", "SetUserPrice", { idToken: "04A1B2C3", priceText: "$0.12/kWh, no idle fee" }, 0, false)).toBe("Accepted")
        expect(screen(true, false, "04A1B2C3", 0, false)).toBe("$0.12/kWh, no idle fee||")
        expect(screen(true, false, "DEADBEEF", 0, false)).toBe("||")
        expect(screen(true, false, "", 0, false)).toBe("||")
        expect(call(COSTMSG, "SetUserPrice", { idToken: "04A1B2C3", priceText: "0.11 $/kWh", priceTextExtra: [] }, 0, false)).toBe("Accepted")
        expect(screen(true, true, "04A1B2C3", TX, true)).toBe("0.11 $/kWh||")
    })
    test("RunningCost: the running transaction only; shows its cost and price", () => {
        const rc = { transactionId: TX, timestamp: "2021-03-19T12:00:00Z", meterValue: 1234000, cost: 1.5, state: "Charging",
            chargingPrice: { kWhPrice: 0.123, hourPrice: 2, flatFee: 0 }, idlePrice: { graceMinutes: 30, hourPrice: 1 } }
        expect(call(COSTMSG, "RunningCost", rc, TX, false)).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", rc, TX + 1, true)).toBe("Rejected")
        expect(call(COSTMSG, "RunningCost", rc, TX, true)).toBe("Accepted")
        expect(screen(true, true, "04A1B2C3", TX, true)).toBe("0.123/kWh + 2/h|1.50|")
        // another transaction does not show it
        expect(screen(true, true, "04A1B2C3", TX + 1, true)).toBe("0.11 $/kWh||")
        // without prices: the user's price stays, the cost is updated
        expect(call(COSTMSG, "RunningCost", { transactionId: TX, cost: 2 }, TX, true)).toBe("Accepted")
        expect(screen(true, true, "04A1B2C3", TX, true)).toBe("0.11 $/kWh|2.00|")
    })
    test("FinalCost: the running or last transaction; shown with its QR code until the cable changes or a new session", () => {
        const fc = { transactionId: TX, cost: 3.31, priceText: "$2.81 @ $0.12/kWh, $0.50 @ $1/h, COST: $3.31", qrCodeText: "https://www.cpo.com/invoices/13546" }
        expect(call(COSTMSG, "FinalCost", fc, TX + 1, false)).toBe("Rejected")
        expect(call(COSTMSG, "FinalCost", fc, TX, false)).toBe("Accepted")
        const final = "$2.81 @ $0.12/kWh, $0.50 @ $1/h, COST: $3.31|3.31|https://www.cpo.com/invoices/13546"
        // the session ended with the cable in: shown until it is unplugged
        expect(screen(true, true, "", TX, false)).toBe(final)
        expect(screen(false, true, "", TX, false)).toBe(final)
        expect(screen(true, false, "", TX, false)).toBe("||")
        expect(screen(true, true, "", TX, false)).toBe("||")
        // ended by unplugging: shown until the next plug-in
        expect(call(COSTMSG, "FinalCost", fc, TX, false)).toBe("Accepted")
        expect(screen(true, false, "", TX, false)).toBe(final)
        expect(screen(true, true, "", TX, false)).toBe("||")
        // or until a new card is authorised
        expect(call(COSTMSG, "FinalCost", { transactionId: TX, cost: 1, priceText: "thanks" }, TX, false)).toBe("Accepted")
        expect(screen(true, false, "", TX, false)).toBe("thanks|1.00|")
        expect(screen(true, false, "04A1B2C3", TX, false)).toBe("0.11 $/kWh||")
        // sent while the transaction still runs: shown once it has ended
        expect(call(COSTMSG, "FinalCost", fc, TX, true)).toBe("Accepted")
        expect(screen(true, true, "04A1B2C3", TX, true)).toBe("0.11 $/kWh|2.00|")
        expect(screen(true, false, "", TX, false)).toBe(final)
        expect(screen(true, true, "", TX + 1, true)).toBe("||")
    })
    test("texts are bounded: the firmware keeps 236 characters, the simulator's register 236 bytes of UTF-8", async () => {
        const parts: string[] = []
        for (let i = 0; i < 30; i++) parts.push("0,15 €/kWh ")
        const long = parts.join("")
        expect(displayText(long).length).toBe(DISPLAY_TEXT_MAX_CHARS)
        expect(displayText(7)).toBe(undefined)
        // "€" is three bytes: the cut never splits it
        const cut = packetText(long)
        expect(Buffer.from(cut).length <= 236).toBe(true)
        expect(Buffer.from(cut).length > 226).toBe(true)
        expect(long.indexOf(cut)).toBe(0)
        expect(packetText("short")).toBe("short")
        expect(await configChange("CustomDisplayCostAndPrice", "false")).toBe("Accepted")
    })
    test("money: two decimals", () => {
        expect(money(3.31)).toBe("3.31")
        expect(money(1)).toBe("1.00")
        expect(money(0.05)).toBe("0.05")
        expect(money(12.3)).toBe("12.30")
        expect(money(0)).toBe("0.00")
    })
    test("FeliCa EneKeyData: nothing for other cards or when disabled; a failed DataTransfer never stops the Authorize", async () => {
        const card = Buffer.from("012E4CE082548F6900774020900000020539", "hex")
        // disabled (default), a missing card, another idTag: returns without a CALL
        await felicaBeforeAuthorize(card, "012E4CE082548F69")
        await felicaBeforeAuthorize(undefined, "012E4CE082548F69")
        expect(await configChange("FelicaAdvancedAuthorization", "true")).toBe("Accepted")
        await felicaBeforeAuthorize(card, "04A1B2C3")
        // no link in the VM tests: the CALL fails (NotConnected) and that is swallowed
        await felicaBeforeAuthorize(card, "012E4CE082548F69")
        expect(await configChange("FelicaAdvancedAuthorization", "false")).toBe("Accepted")
    })
})
