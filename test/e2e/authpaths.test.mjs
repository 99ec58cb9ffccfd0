// Authorisation paths with the Local Auth List and the cache: LocalPreAuthorize,
// LocalAuthorizeOffline, expiry and blocked entries offline (OCA TC_007, TC_008,
// TC_037_1, TC_061).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, sleep } from "./harness.mjs"

async function configure(b, pairs) {
    for (const [key, value] of Object.entries(pairs)) assert.deepEqual(await b.call("ChangeConfiguration", { key, value }), { status: "Accepted" }, key)
}
const authorizes = b => b.csms.messages({ action: "Authorize", dir: "in", type: 2, identity: b.id }).map(m => m.payload.idTag)

test("TC_008 a listed tag starts without Authorize (LocalPreAuthorize, remote start with AuthorizeRemoteTxRequests); an unlisted one still goes online", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { LocalPreAuthorize: "true", AuthorizeRemoteTxRequests: "true" })
        assert.deepEqual(
            await b.call("SendLocalList", { listVersion: 1, updateType: "Full", localAuthorizationList: [{ idTag: "04CC0001", idTagInfo: { status: "Accepted" } }] }),
            { status: "Accepted" },
        )
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        assert.deepEqual(await b.call("RemoteStartTransaction", { idTag: "04CC0001" }), { status: "Accepted" })
        const start = await b.message("StartTransaction")
        assert.equal(start.payload.idTag, "04CC0001")
        await b.api("POST", "/api/ev/unplug")
        await b.message("StopTransaction")
        await b.until(s => s.connectorStatus === "Available", "Available")
        // a card on the list: no Authorize either
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04CC0001" })
        await b.message("StartTransaction", 2)
        assert.deepEqual(authorizes(b), [])
        await b.api("POST", "/api/ev/unplug")
        await b.message("StopTransaction", 2)
        await b.until(s => s.connectorStatus === "Available", "Available")
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04CC0002" })
        await b.message("StartTransaction", 3)
        assert.deepEqual(authorizes(b), ["04CC0002"])
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_007/TC_061 the cache answers a known tag without Authorize; ClearCache empties it", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { AuthorizationCacheEnabled: "true", LocalPreAuthorize: "true", AuthorizeRemoteTxRequests: "true", ConnectionTimeOut: "10" })
        await b.api("POST", "/api/rfid", { uid: "04CC0003" })
        await b.until(s => s.lastAuthorization === "Accepted" && s.connectorStatus === "Preparing", "authorised")
        assert.deepEqual(authorizes(b), ["04CC0003"])
        // no cable: the authorisation lapses (TC_004_2); the cache keeps the answer
        await b.until(s => s.connectorStatus === "Available", "authorisation lapsed", 30000)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        assert.deepEqual(await b.call("RemoteStartTransaction", { idTag: "04CC0003" }), { status: "Accepted" })
        await b.message("StartTransaction")
        assert.deepEqual(authorizes(b), ["04CC0003"], "TC_007: cached tag sent to Authorize")
        await b.api("POST", "/api/ev/unplug")
        await b.message("StopTransaction")
        await b.until(s => s.connectorStatus === "Available", "Available")
        assert.deepEqual(await b.call("ClearCache", {}), { status: "Accepted" })
        await sleep(2100)
        await b.api("POST", "/api/rfid", { uid: "04CC0003" })
        await b.until(() => authorizes(b).length === 2, "TC_061: Authorize after ClearCache")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_037_1 offline: a listed tag starts (LocalAuthorizeOffline), a blocked or expired one does not; the transaction reaches the central system once back", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await configure(b, { LocalAuthorizeOffline: "true" })
        assert.deepEqual(
            await b.call("SendLocalList", {
                listVersion: 3,
                updateType: "Full",
                localAuthorizationList: [
                    { idTag: "04CC0010", idTagInfo: { status: "Accepted" } },
                    { idTag: "04CC0011", idTagInfo: { status: "Blocked" } },
                    { idTag: "04CC0012", idTagInfo: { status: "Accepted", expiryDate: "2020-01-01T00:00:00Z" } },
                ],
            }),
            { status: "Accepted" },
        )
        await b.api("POST", "/api/network/drop")
        await b.until(s => !s.ocppConnected, "offline")
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.api("POST", "/api/rfid", { uid: "04CC0011" })
        await b.until(s => s.lastAuthorization === "Blocked", "blocked")
        await sleep(2100)
        await b.api("POST", "/api/rfid", { uid: "04CC0012" })
        await b.until(s => s.lastAuthorization === "Expired", "expired")
        assert.equal((await b.state()).contactorClosed, false)
        await sleep(2100)
        await b.api("POST", "/api/rfid", { uid: "04CC0010" })
        await b.until(s => s.contactorClosed && s.transactionId < 0, "charging offline")
        await b.api("POST", "/api/network/restore")
        const start = await b.message("StartTransaction", 1, 40000)
        assert.equal(start.payload.idTag, "04CC0010")
        await b.until(s => s.transactionId > 0, "the central system's transaction id")
        assert.deepEqual(authorizes(b), [])
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("ABBIdTag true ignores random UIDs (phone wallets, bank cards: 4 bytes from 0x08); false passes them on", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/rfid", { uid: "08A1B2C3" })
        await b.until(s => s.lastAuthorization === "Invalid", "random UID refused")
        await sleep(1000)
        assert.deepEqual(authorizes(b), [])
        await configure(b, { ABBIdTag: "false" })
        await sleep(1100)
        await b.api("POST", "/api/rfid", { uid: "08A1B2C4" })
        await b.until(() => authorizes(b).length === 1, "Authorize of the random UID")
        assert.deepEqual(authorizes(b), ["08A1B2C4"])
        b.assertClean()
    } finally {
        await b.stop()
    }
})
