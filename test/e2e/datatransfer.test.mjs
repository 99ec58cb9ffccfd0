// DataTransfer against the strict central system: vendor and message ids (OCA TC_062),
// the seed's CTEP price and cost display (§6.2.2) on the simulated display, and FeliCa
// EneKeyData before Authorize (§6.2.3).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, sleep } from "./harness.mjs"

const COSTMSG = "org.openchargealliance.costmsg"
const DEFAULT_PRICE = {
    priceText: "0.15 $/kWh, idle fee after charging: 1 $/hr",
    priceTextOffline: "The station is offline. Charging is possible for 0.15 $/kWh.",
    chargingPrice: { kWhPrice: 0.15, hourPrice: 0.0, flatFee: 0.0 },
}
// the seed's FinalCost example
const FINAL_TEXT =
    "$2.81 @ $0.12/kWh, $0.50 @ $1/h, TOTAL KWH: 23.4 TIME: 03.50 COST: $3.31. Visit www.cpo.com/invoices/13546 for an invoice of your session."
const QR = "https://www.cpo.com/invoices/13546"

const dataTransfer = (b, vendorId, messageId, data) =>
    b.call("DataTransfer", { vendorId, ...(messageId && { messageId }), ...(data !== undefined && { data: typeof data === "string" ? data : JSON.stringify(data) }) })

async function enableCtep(b) {
    assert.deepEqual(await b.call("ChangeConfiguration", { key: "CustomDisplayCostAndPrice", value: "true" }), { status: "Accepted" })
    assert.deepEqual(await b.call("ChangeConfiguration", { key: "DefaultPrice", value: JSON.stringify(DEFAULT_PRICE) }), { status: "Accepted" })
    await b.until(s => s.priceText === DEFAULT_PRICE.priceText, "DefaultPrice on the display")
}

test("TC_062 unknown vendorId / messageId; CTEP Rejected while CustomDisplayCostAndPrice is false; DefaultPrice on the idle display, offline text when the link drops", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.deepEqual(await dataTransfer(b, "com.example", "SetUserPrice"), { status: "UnknownVendorId" })
        assert.deepEqual(await dataTransfer(b, "ABB"), { status: "UnknownMessageId" })
        assert.deepEqual(await dataTransfer(b, "ABB", "EneKeyData", "{}"), { status: "UnknownMessageId" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "Hello"), { status: "UnknownMessageId" })
        // CTEP off (the seed's default): known messages of a function that is off
        const userPrice = { idToken: "04A1B2C3", priceText: "$0.12/kWh, no idle fee" }
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice", userPrice), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "FinalCost", { transactionId: 1, cost: 1, priceText: "x" }), { status: "Rejected" })
        let s = await b.state()
        assert.equal(s.priceText, null)

        await enableCtep(b)
        // malformed data, a user price without idToken outside a transaction, costs of no transaction
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice", "{priceText"), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice"), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice", { priceText: "0.10 $/kWh" }), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "RunningCost", { transactionId: 98765, cost: 1 }), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "FinalCost", { transactionId: 98765, cost: 3.31, priceText: FINAL_TEXT }), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice", userPrice), { status: "Accepted" })
        s = await b.state()
        assert.equal(s.priceText, DEFAULT_PRICE.priceText, "no user identified: the default price")
        assert.equal(s.costText, null)

        await b.api("POST", "/api/network/drop")
        await b.until(st => !st.ocppConnected && st.priceText === DEFAULT_PRICE.priceTextOffline, "the offline price text")
        await b.api("POST", "/api/network/restore")
        await b.until(st => st.ocppConnected && st.priceText === DEFAULT_PRICE.priceText, "the online price text", 30000)

        // a long text with multi-byte characters: cut at a character boundary to one packet
        const long = "Preis: " + "0,15 €/kWh; ".repeat(30)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "DefaultPrice", value: JSON.stringify({ priceText: long }) }), { status: "Accepted" })
        s = await b.until(st => st.priceText && st.priceText.startsWith("Preis"), "the long price text")
        assert.ok(long.startsWith(s.priceText), "a prefix of the text")
        assert.ok(Buffer.byteLength(s.priceText) <= 236 && Buffer.byteLength(s.priceText) > 226, `${Buffer.byteLength(s.priceText)} bytes`)

        assert.deepEqual(await b.call("ChangeConfiguration", { key: "CustomDisplayCostAndPrice", value: "false" }), { status: "Accepted" })
        await b.until(st => st.priceText === null, "no price screen with CTEP off")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("CTEP session: SetUserPrice for the identified user, RunningCost of the running transaction (another id Rejected), FinalCost with its QR code after it until the next plug-in", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await enableCtep(b)
        // card first: the central system sends the user's price when the card is presented
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await b.message("Authorize")
        assert.deepEqual(await dataTransfer(b, "ABB", "SetUserPrice", { idToken: "04A1B2C3", priceText: "$0.12/kWh, no idle fee" }), { status: "Accepted" })
        await b.until(s => s.idTag === "04A1B2C3" && s.priceText === "$0.12/kWh, no idle fee", "the user's price")

        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        const start = await b.message("StartTransaction")
        const s = await b.until(st => st.transactionId > 0 && st.contactorClosed, "charging")
        const tx = s.transactionId
        assert.equal(start.payload.idTag, "04A1B2C3")
        assert.equal(s.priceText, "$0.12/kWh, no idle fee", "the user's price during the transaction")
        // the seed's RunningCost example, for another transaction and for ours
        const running = {
            transactionId: tx + 1000, timestamp: new Date().toISOString(), meterValue: 1234000, cost: 1.0, state: "Charging",
            chargingPrice: { kWhPrice: 0.123, hourPrice: 0.0, flatFee: 0.0 }, idlePrice: { graceMinutes: 30, hourPrice: 1.0 },
        }
        assert.deepEqual(await dataTransfer(b, COSTMSG, "RunningCost", running), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "RunningCost", { ...running, transactionId: tx }), { status: "Accepted" })
        await b.until(st => st.costText === "1.00" && st.priceText === "0.123/kWh", "the running cost")
        assert.deepEqual(await dataTransfer(b, COSTMSG, "RunningCost", { ...running, transactionId: tx, cost: 1.25 }), { status: "Accepted" })
        await b.until(st => st.costText === "1.25", "the running cost updated")

        await b.api("POST", "/api/ev/unplug")
        const stop = await b.message("StopTransaction")
        assert.equal(stop.payload.transactionId, tx)
        await b.until(st => st.transactionId === null && st.connectorStatus === "Available", "the session ended")
        // after its end: RunningCost Rejected, FinalCost of another transaction Rejected, ours Accepted
        assert.deepEqual(await dataTransfer(b, COSTMSG, "RunningCost", { ...running, transactionId: tx }), { status: "Rejected" })
        const final = { transactionId: tx, cost: 3.31, priceText: FINAL_TEXT, qrCodeText: QR }
        assert.deepEqual(await dataTransfer(b, COSTMSG, "FinalCost", { ...final, transactionId: tx + 1 }), { status: "Rejected" })
        assert.deepEqual(await dataTransfer(b, COSTMSG, "FinalCost", final), { status: "Accepted" })
        let st = await b.until(x => x.priceText === FINAL_TEXT, "the final cost")
        assert.equal(st.costText, "3.31")
        assert.equal(st.qrCodeText, QR)
        // until the next session: the cable is plugged in
        await b.api("POST", "/api/ev/plug")
        st = await b.until(x => x.priceText === DEFAULT_PRICE.priceText, "the default price again")
        assert.equal(st.costText, null)
        assert.equal(st.qrCodeText, null)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("FeliCa (seed §6.2.3): with FelicaAdvancedAuthorization, DataTransfer ABB/EneKeyData precedes the Authorize of a FeliCa card, its answer ignored; never for an ISO 14443A card or when disabled", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const felica = { idm: "012E4CE082548F69", dataFormatCode: "0077", eneKeyData: "4020900000020539" }
        const outgoing = () => b.csms.messages({ action: "DataTransfer", dir: "in", type: 2, identity: b.id })
        // disabled (the seed's default): a plain Authorize with the IDm
        await b.api("POST", "/api/rfid", { felica })
        assert.equal((await b.message("Authorize")).payload.idTag, "012E4CE082548F69")
        assert.equal(outgoing().length, 0)

        assert.deepEqual(await b.call("ChangeConfiguration", { key: "FelicaAdvancedAuthorization", value: "true" }), { status: "Accepted" })
        await sleep(2100) // the same card again after the reader's cooldown
        await b.api("POST", "/api/rfid", { felica })
        const auth = await b.message("Authorize", 2)
        const sent = outgoing()
        assert.equal(sent.length, 1)
        assert.equal(sent[0].payload.vendorId, "ABB")
        assert.equal(sent[0].payload.messageId, "EneKeyData")
        assert.deepEqual(JSON.parse(sent[0].payload.data), { EneKeyData: "4020900000020539", DataFormatCode: "0077", idTag: "012E4CE082548F69" })
        assert.ok(sent[0].seq < auth.seq, "EneKeyData before the Authorize")
        assert.equal(auth.payload.idTag, "012E4CE082548F69")
        // the central system answered UnknownVendorId: ignored, the Authorize decided
        await b.until(s => s.idTag === "012E4CE082548F69" && s.lastAuthorization === "Accepted", "authorised")

        // an ISO 14443A card (once the FeliCa card has left the field): no EneKeyData
        await sleep(1000)
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        assert.equal((await b.message("Authorize", 3)).payload.idTag, "04A1B2C3")
        assert.equal(outgoing().length, 1)
        await assert.rejects(b.api("POST", "/api/rfid", { felica: { idm: "0102" } }), /felica must be/)
        b.assertClean()
    } finally {
        await b.stop()
    }
})
