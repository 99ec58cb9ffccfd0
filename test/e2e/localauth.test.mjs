// Local Auth List Management and ClearCache against the strict central system
// (OCA TC_042_1, TC_042_2, TC_043, TC_043_1, TC_043_2, TC_061).
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable } from "./harness.mjs"

/** `n` entries "<prefix>0".. with idTagInfo Accepted. */
const entries = (prefix, n) => Array.from({ length: n }, (_, i) => ({ idTag: `${prefix}${i}`, idTagInfo: { status: "Accepted" } }))

const send = async (b, updateType, listVersion, localAuthorizationList) =>
    (await b.call("SendLocalList", { listVersion, updateType, ...(localAuthorizationList ? { localAuthorizationList } : {}) })).status
const version = async b => (await b.call("GetLocalListVersion", {})).listVersion

test("TC_042_2, TC_043, TC_043_2: versions of Full and Differential updates; at most 8 per message, 16 in all", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const cfg = await b.call("GetConfiguration", { key: ["SupportedFeatureProfiles", "LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength"] })
        assert.deepEqual(cfg.configurationKey.map(k => k.value), ["Core,LocalAuthListManagement,RemoteTrigger", "true", "16", "8"])
        assert.equal(await version(b), 0)
        // TC_042_2: a full update without entries empties the list, which is version 0
        assert.equal(await send(b, "Full", 1, []), "Accepted")
        assert.equal(await version(b), 0)
        // TC_043 / TC_043_2
        assert.equal(await send(b, "Full", 2, entries("A", 1)), "Accepted")
        assert.equal(await version(b), 2)
        assert.equal(await send(b, "Differential", 5, entries("B", 1)), "Accepted")
        assert.equal(await version(b), 5)
        assert.equal(await send(b, "Differential", 4, entries("C", 1)), "VersionMismatch")
        assert.equal(await version(b), 5)
        // limits: Failed, and the list and its version stay
        assert.equal(await send(b, "Full", 6, entries("D", 9)), "Failed")
        assert.equal(await version(b), 5)
        assert.equal(await send(b, "Full", 6, entries("D", 8)), "Accepted")
        assert.equal(await send(b, "Differential", 7, entries("E", 8)), "Accepted")
        assert.equal(await send(b, "Differential", 8, entries("F", 1)), "Failed")
        assert.equal(await version(b), 7)
        // a full list needs idTagInfo on every entry
        assert.equal(await send(b, "Full", 8, [{ idTag: "G0" }]), "Failed")
        assert.equal(await version(b), 7)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_042_1, TC_043_1: LocalAuthListEnabled false: GetLocalListVersion -1, SendLocalList NotSupported; TC_061 ClearCache", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        // the seed's default: no cache, nothing to clear
        assert.deepEqual(await b.call("ClearCache", {}), { status: "Accepted" })
        assert.equal(await send(b, "Full", 3, entries("A", 2)), "Accepted")
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "LocalAuthListEnabled", value: "false" }), { status: "Accepted" })
        assert.equal(await version(b), -1)
        assert.equal(await send(b, "Full", 4, entries("B", 1)), "NotSupported")
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "LocalAuthListEnabled", value: "true" }), { status: "Accepted" })
        // the list was kept while disabled
        assert.equal(await version(b), 3)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "AuthorizationCacheEnabled", value: "true" }), { status: "Accepted" })
        assert.deepEqual(await b.call("ClearCache", {}), { status: "Accepted" })
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("the list survives a power cut, entries and version", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        assert.equal(await send(b, "Full", 3, entries("A", 8)), "Accepted")
        assert.equal(await send(b, "Differential", 4, entries("B", 8)), "Accepted")
        await b.api("POST", "/api/power/cut")
        await b.api("POST", "/api/power/on")
        await b.until(s => s.ocppConnected && s.registration === "Accepted", "rebooted", 30000)
        assert.equal(await version(b), 4)
        // all 16 entries are back: one more does not fit, a replacement does
        assert.equal(await send(b, "Differential", 5, entries("C", 1)), "Failed")
        assert.equal(await send(b, "Differential", 5, [{ idTag: "A0" }, ...entries("C", 1)]), "Accepted")
        assert.equal(await version(b), 5)
        b.assertClean()
    } finally {
        await b.stop()
    }
})
