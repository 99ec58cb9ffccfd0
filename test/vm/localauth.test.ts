import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { localAuthHandleCall, authLocalLookup, authCacheUpdate, localAuthLoad, CACHE_ENTRIES } from "../../src/ocpp/localauth"
import { configSet } from "../../src/store/config"
import { storeReadText, storeWrite, storeWriteRaw, storeOnCorrupt, storeStats } from "../../src/store/store"
import { parseIso8601 } from "../../src/util/iso8601"

const ACCEPTED = { status: "Accepted" }

async function send(updateType: string, listVersion: number, list?: any[]) {
    return (await localAuthHandleCall("SendLocalList", { listVersion, updateType, localAuthorizationList: list })).status
}

async function version() {
    return (await localAuthHandleCall("GetLocalListVersion", {})).listVersion
}

/** `n` entries "<prefix>0".. with idTagInfo `info`. */
function entries(prefix: string, n: number, info: any = ACCEPTED) {
    const out: any[] = []
    for (let i = 0; i < n; i++) out.push({ idTag: prefix + i, idTagInfo: info })
    return out
}

async function status(idTag: string, nowS = 0) {
    const r = await authLocalLookup(idTag, nowS)
    return r ? r.status : "none"
}

/** Both features on, both tables empty. */
async function reset() {
    await yieldSlice()
    await configSet("LocalAuthListEnabled", "true")
    await configSet("AuthorizationCacheEnabled", "true")
    await send("Full", 0, [])
    await localAuthHandleCall("ClearCache", {})
}

describe("local authorization list (OCPP 1.6 §5.8, §5.15)", () => {
    beforeEach(reset)
    test("TC_042_2 an empty list has version 0, also after a Full update with none", async () => {
        expect(await version()).toBe(0)
        expect(await send("Full", 1, [])).toBe("Accepted")
        expect(await version()).toBe(0)
        expect(await send("Full", 1)).toBe("Accepted")
        expect(await version()).toBe(0)
    })
    test("TC_043 a Full update replaces the list; idTags are case-insensitive", async () => {
        expect(await send("Full", 4, entries("A", 2))).toBe("Accepted")
        expect(await version()).toBe(4)
        expect(await status("a1")).toBe("Accepted")
        expect(await send("Full", 5, [{ idTag: "c0", idTagInfo: { status: "Blocked" } }])).toBe("Accepted")
        expect(await version()).toBe(5)
        expect(await status("A0")).toBe("none")
        expect(await status("C0")).toBe("Blocked")
    })
    test("TC_043_2 a Differential update must be newer: VersionMismatch leaves list and version", async () => {
        expect(await send("Full", 2, entries("A", 1))).toBe("Accepted")
        expect(await send("Differential", 5, entries("B", 1))).toBe("Accepted")
        expect(await version()).toBe(5)
        expect(await send("Differential", 4, entries("C", 1))).toBe("VersionMismatch")
        expect(await send("Differential", 5, entries("C", 1))).toBe("VersionMismatch")
        expect(await version()).toBe(5)
        expect(await status("C0")).toBe("none")
        expect(await status("A0")).toBe("Accepted")
        expect(await status("B0")).toBe("Accepted")
    })
    test("Differential: idTagInfo adds or updates, none removes; removing the last entry gives version 0", async () => {
        expect(await send("Full", 2, entries("A", 2))).toBe("Accepted")
        expect(await send("Differential", 3, [{ idTag: "A0" }, { idTag: "A1", idTagInfo: { status: "Invalid" } }, { idTag: "ZZ" }])).toBe("Accepted")
        expect(await status("A0")).toBe("none")
        expect(await status("A1")).toBe("Invalid")
        expect(await version()).toBe(3)
        expect(await send("Differential", 4, [{ idTag: "a1" }])).toBe("Accepted")
        expect(await version()).toBe(0)
        // empty again: any version from 1 is newer
        expect(await send("Differential", 1, entries("D", 1))).toBe("Accepted")
        expect(await version()).toBe(1)
    })
    test("limits: SendLocalListMaxLength 8, LocalAuthListMaxLength 16; Failed leaves the list as it was", async () => {
        expect(await send("Full", 1, entries("A", 9))).toBe("Failed")
        expect(await version()).toBe(0)
        expect(await send("Full", 1, entries("A", 8))).toBe("Accepted")
        expect(await send("Differential", 2, entries("B", 8))).toBe("Accepted")
        expect(await send("Differential", 3, entries("C", 1))).toBe("Failed")
        expect(await version()).toBe(2)
        expect(await status("C0")).toBe("none")
        // updating an entry of a full list keeps 16
        expect(await send("Differential", 3, entries("B", 1, { status: "Blocked" }))).toBe("Accepted")
        expect(await status("B0")).toBe("Blocked")
        expect(await status("A7")).toBe("Accepted")
        // a full list needs idTagInfo on every entry, and a version from 1
        expect(await send("Full", 4, [{ idTag: "X" }])).toBe("Failed")
        expect(await send("Full", 0, entries("X", 1))).toBe("Failed")
        expect(await version()).toBe(3)
    })
    test("16 entries of the longest kind fit; TC_043_3 a list too large for its records answers Failed", async () => {
        const info = { status: "Accepted", expiryDate: "2099-12-31T23:59:59Z", parentIdTag: "PARENT-0123456789012" }
        expect(await send("Full", 1, entries("ABCDEFGHIJKLMNOPQRS", 8, info))).toBe("Accepted")
        expect(await send("Differential", 2, entries("BBCDEFGHIJKLMNOPQRS", 8, info))).toBe("Accepted")
        const r = await authLocalLookup("BBCDEFGHIJKLMNOPQRS7", 0)
        expect(r.parentIdTag).toBe("PARENT-0123456789012")
        // four bytes per character: 16 such entries need more than the 9 records of a bank
        const wide = { status: "Accepted", parentIdTag: "🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽" }
        expect(await send("Full", 3, entries("🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽", 8, wide))).toBe("Accepted")
        expect(await send("Differential", 4, entries("🚲🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽", 8, wide))).toBe("Failed")
        expect(await version()).toBe(3)
        expect(await status("🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽🗽5")).toBe("Accepted")
    })
    test("TC_042_1/TC_043_1 LocalAuthListEnabled false: version -1, SendLocalList NotSupported, list kept unused", async () => {
        expect(await send("Full", 3, entries("A", 1))).toBe("Accepted")
        await configSet("LocalAuthListEnabled", "false")
        expect(await version()).toBe(-1)
        expect(await send("Full", 4, entries("B", 1))).toBe("NotSupported")
        expect(await status("A0")).toBe("none")
        await configSet("LocalAuthListEnabled", "true")
        expect(await version()).toBe(3)
        expect(await status("A0")).toBe("Accepted")
    })
    test("expiry, parent, and the list before the cache (§3.5.3)", async () => {
        const expiry = "2025-01-01T00:00:00Z"
        const at = Math.floor(parseIso8601(expiry) / 1000)
        await authCacheUpdate("T1", { status: "Invalid" })
        expect(await status("T1")).toBe("Invalid")
        expect(await send("Full", 1, [{ idTag: "T1", idTagInfo: { status: "Accepted", expiryDate: expiry, parentIdTag: "Fleet" } }])).toBe("Accepted")
        const r = await authLocalLookup("t1", at - 1)
        expect(r.status).toBe("Accepted")
        expect(r.parentIdTag).toBe("Fleet")
        expect(await status("T1", at)).toBe("Expired")
        // off the list, the cache answers again
        expect(await send("Full", 2, [])).toBe("Accepted")
        expect(await status("T1")).toBe("Invalid")
    })
})

describe("authorisation cache (OCPP 1.6 §3.5.2)", () => {
    beforeEach(reset)
    test("updated from idTagInfo, expiry honoured, ConcurrentTx and listed idTags not cached", async () => {
        await authCacheUpdate("c1", { status: "Accepted", expiryDate: "2030-01-01T00:00:00Z", parentIdTag: "G" })
        const r = await authLocalLookup("C1", 0)
        expect(r.status).toBe("Accepted")
        expect(r.parentIdTag).toBe("G")
        expect(await status("C1", Math.floor(parseIso8601("2030-01-01T00:00:00Z") / 1000))).toBe("Expired")
        await authCacheUpdate("C1", { status: "Blocked" })
        expect(await status("C1")).toBe("Blocked")
        expect((await authLocalLookup("C1", 0)).parentIdTag).toBe(undefined)
        await authCacheUpdate("C2", { status: "ConcurrentTx" })
        expect(await status("C2")).toBe("none")
        expect(await send("Full", 1, entries("L", 1))).toBe("Accepted")
        await authCacheUpdate("L0", { status: "Invalid" })
        expect(await send("Full", 2, [])).toBe("Accepted")
        expect(await status("L0")).toBe("none")
    })
    test("8 entries: a new idTag replaces the least recently used one", async () => {
        for (let i = 0; i < CACHE_ENTRIES; i++) await authCacheUpdate("C" + i, ACCEPTED)
        // C0 answered again: now the most recent, C1 the least
        await authCacheUpdate("C0", ACCEPTED)
        await authCacheUpdate("N", ACCEPTED)
        expect(await status("N")).toBe("Accepted")
        expect(await status("C0")).toBe("Accepted")
        expect(await status("C1")).toBe("none")
        for (let i = 2; i < CACHE_ENTRIES; i++) expect(await status("C" + i)).toBe("Accepted")
    })
    test("flash is written only when the cache changes", async () => {
        await authCacheUpdate("W1", ACCEPTED)
        await authCacheUpdate("W2", ACCEPTED)
        const writes = storeStats.writes
        await authCacheUpdate("W2", ACCEPTED)
        expect(storeStats.writes).toBe(writes)
        await authCacheUpdate("W1", ACCEPTED)
        expect(storeStats.writes > writes).toBe(true)
    })
    test("TC_061 ClearCache empties it (Accepted); disabled: no updates, no lookups, Accepted", async () => {
        await authCacheUpdate("C1", ACCEPTED)
        expect((await localAuthHandleCall("ClearCache", {})).status).toBe("Accepted")
        expect(await status("C1")).toBe("none")
        const writes = storeStats.writes
        expect((await localAuthHandleCall("ClearCache", {})).status).toBe("Accepted")
        expect(storeStats.writes).toBe(writes)
        await authCacheUpdate("C2", ACCEPTED)
        await configSet("AuthorizationCacheEnabled", "false")
        expect(await status("C2")).toBe("none")
        await authCacheUpdate("C3", ACCEPTED)
        await configSet("AuthorizationCacheEnabled", "true")
        expect(await status("C2")).toBe("Accepted")
        expect(await status("C3")).toBe("none")
    })
})

describe("local list and cache in flash", () => {
    beforeEach(reset)
    test("both survive a restart", async () => {
        expect(await send("Full", 7, entries("A", 3))).toBe("Accepted")
        await authCacheUpdate("K", { status: "Blocked" })
        await localAuthLoad()
        expect(await version()).toBe(7)
        expect(await status("A2")).toBe("Accepted")
        expect(await status("K")).toBe("Blocked")
    })
    test("a power cut before the header switch leaves the old list whole", async () => {
        expect(await send("Full", 7, entries("A", 3))).toBe("Accepted")
        const other = (await storeReadText("lh"))[0] === "a" ? "b" : "a"
        // what a cut after writing the new bank, before its header, leaves behind
        await storeWrite("l" + other + "0", Buffer.from("\u0001NEW\u0002A\u0002\u0001"))
        await localAuthLoad()
        expect(await version()).toBe(7)
        expect(await status("A0")).toBe("Accepted")
        expect(await status("NEW")).toBe("none")
        // and the next update still goes to the other bank, whole
        expect(await send("Differential", 8, entries("B", 1))).toBe("Accepted")
        await localAuthLoad()
        expect(await status("B0")).toBe("Accepted")
        expect(await status("A1")).toBe("Accepted")
        expect(await status("NEW")).toBe("none")
    })
    test("a corrupt record empties the list (version 0) and is reported; the next update works", async () => {
        let reported = ""
        storeOnCorrupt(key => (reported = key))
        expect(await send("Full", 7, entries("A", 3))).toBe("Accepted")
        const key = "l" + (await storeReadText("lh"))[0] + "0"
        await storeWriteRaw(key, Buffer.from("torn"))
        await localAuthLoad()
        expect(reported).toBe(key)
        expect(await version()).toBe(0)
        expect(await status("A0")).toBe("none")
        expect(await send("Full", 1, entries("B", 1))).toBe("Accepted")
        await localAuthLoad()
        expect(await version()).toBe(1)
        expect(await status("B0")).toBe("Accepted")
        // a torn header: the same
        await storeWriteRaw("lh", Buffer.from("x"))
        await localAuthLoad()
        expect(reported).toBe("lh")
        expect(await version()).toBe(0)
    })
})
