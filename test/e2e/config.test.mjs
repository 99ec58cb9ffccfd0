// Configuration over OCPP against the strict central system (OCA TC_019, TC_021, TC_040,
// TC_073) and the seed's live keys.
import { test } from "node:test"
import assert from "node:assert/strict"
import { startBench, bootToAvailable, waitFor, sleep } from "./harness.mjs"

/** TC_019: required keys per supported profile, with their read-only flag. */
const REQUIRED = {
    AuthorizeRemoteTxRequests: null, ClockAlignedDataInterval: false, ConnectionTimeOut: false, ConnectorPhaseRotation: false,
    GetConfigurationMaxKeys: true, HeartbeatInterval: false, LocalAuthorizeOffline: false, LocalPreAuthorize: false,
    MeterValuesAlignedData: false, MeterValuesSampledData: false, MeterValueSampleInterval: false, NumberOfConnectors: true,
    ResetRetries: false, StopTransactionOnInvalidId: false, StopTxnAlignedData: false, StopTxnSampledData: false,
    SupportedFeatureProfiles: true, TransactionMessageAttempts: false, TransactionMessageRetryInterval: false,
    UnlockConnectorOnEVSideDisconnect: null, StopTransactionOnEVSideDisconnect: false,
    LocalAuthListEnabled: false, LocalAuthListMaxLength: true, SendLocalListMaxLength: true,
    ChargeProfileMaxStackLevel: true, ChargingScheduleAllowedChargingRateUnit: true, ChargingScheduleMaxPeriods: true,
    MaxChargingProfilesInstalled: true,
}

test("TC_019 GetConfiguration: all keys with the right read-only flags, never AuthorizationKey", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const all = await b.call("GetConfiguration", {})
        const byKey = Object.fromEntries(all.configurationKey.map(k => [k.key, k]))
        for (const [key, readonly] of Object.entries(REQUIRED)) {
            assert.ok(byKey[key], `${key} missing`)
            if (readonly !== null) assert.equal(byKey[key].readonly, readonly, `${key} readonly`)
        }
        assert.equal(byKey.AuthorizationKey, undefined)
        assert.equal(all.configurationKey.length, 65)
        assert.equal(all.unknownKey, undefined)
        // board model: the simulator board has a display
        assert.equal(byKey.ChargeProfileMaxStackLevel.value, "16")
        assert.equal(byKey.SupportedFeatureProfiles.value.split(",")[0], "Core")
        assert.match(byKey.ChargingLimitedBy.value, /^RatedOutputCurrent,UserSetMaxCurrent,32A$/)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("GetConfiguration with keys: known, unknown, write-only, over GetConfigurationMaxKeys", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const some = await b.call("GetConfiguration", {
            key: ["HeartbeatInterval", "Testing", "AuthorizationKey", "MinimumStatusDuration", "NumberOfConnectors"],
        })
        assert.deepEqual(some.configurationKey, [
            { key: "HeartbeatInterval", readonly: false, value: "300" },
            { key: "NumberOfConnectors", readonly: true, value: "1" },
        ])
        assert.deepEqual(some.unknownKey, ["Testing", "AuthorizationKey", "MinimumStatusDuration"])
        const twenty = Array.from({ length: 20 }, () => "HeartbeatInterval")
        assert.equal((await b.call("GetConfiguration", { key: twenty })).configurationKey.length, 20)
        await assert.rejects(b.call("GetConfiguration", { key: [...twenty, "NumberOfConnectors"] }), e => e.rpcErrorCode === "OccurenceConstraintViolation")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_021/TC_040 ChangeConfiguration: Accepted and read back, Rejected, NotSupported", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const change = (key, value) => b.call("ChangeConfiguration", { key, value })
        assert.deepEqual(await change("MeterValueSampleInterval", "45"), { status: "Accepted" })
        assert.equal((await b.call("GetConfiguration", { key: ["MeterValueSampleInterval"] })).configurationKey[0].value, "45")
        assert.deepEqual(await change("MeterValueSampleInterval", "-1"), { status: "Rejected" })
        assert.deepEqual(await change("MeterValueSampleInterval", "3"), { status: "Rejected" })
        assert.deepEqual(await change("WebSocketPingInterval", "-5"), { status: "Rejected" })
        assert.deepEqual(await change("NumberOfConnectors", "2"), { status: "Rejected" })
        assert.deepEqual(await change("Testing", "1"), { status: "NotSupported" })
        assert.deepEqual(await change("ActiveSolarMode", "1"), { status: "Rejected" }, "only during charging")
        assert.deepEqual(await change("AuthorizationKey", "short"), { status: "Rejected" })
        assert.equal((await b.call("GetConfiguration", { key: ["MeterValueSampleInterval"] })).configurationKey[0].value, "45")
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("UserSetMaxCurrent lowers the PWM at once; ChargingLimitedBy/Channels tell which limit is in force", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 32 })
        await b.api("POST", "/api/rfid", { uid: "04A1B2C3" })
        await b.until(s => s.contactorClosed && s.offeredCurrentA > 31, "charging at 32 A")
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "UserSetMaxCurrent", value: "10" }), { status: "Accepted" })
        const s = await b.until(st => st.offeredCurrentA > 9 && st.offeredCurrentA <= 10, "10 A offered")
        assert.equal(s.contactorClosed, true)
        const cfg = await b.call("GetConfiguration", { key: ["ChargingLimitedBy", "ChargingLimitedChannels"] })
        assert.equal(cfg.configurationKey[0].value, "UserSetMaxCurrent,10A")
        assert.equal(cfg.configurationKey[1].value, "[RatedOutputCurrent:32A],[UserSetMaxCurrent:10A]")
        assert.equal(cfg.configurationKey[0].readonly, true)
        // ActiveSolarMode may change while charging
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ActiveSolarMode", value: "2,4" }), { status: "Accepted" })
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("TC_073 a new AuthorizationKey (hex form) is used for the next connection, also after a power cut", async () => {
    const id = `CP-KEY-${process.pid}`
    const b = await startBench({ id, csms: { passwords: { [id]: "initial-key-00000001" } }, sim: { key: "initial-key-00000001" } })
    try {
        await bootToAvailable(b)
        const connects = b.csms.connects
        // the OCTT sends the key hex-encoded; the password is the decoded bytes
        b.csms.o.passwords[id] = "OCA_OCTT_admin_test"
        const hex = Buffer.from("OCA_OCTT_admin_test").toString("hex")
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "AuthorizationKey", value: hex }), { status: "Accepted" })
        await waitFor(() => b.csms.connects > connects && b.csms.clients.has(id), { what: "reconnect with the new key" })
        assert.equal(b.csms.authFailures, 0)
        // never reported back
        const cfg = await b.call("GetConfiguration", { key: ["AuthorizationKey"] })
        assert.deepEqual(cfg, { configurationKey: [], unknownKey: ["AuthorizationKey"] })
        // the key survives a power cut; the unchanged provisioning does not override it
        await b.api("POST", "/api/power/cut")
        await b.api("POST", "/api/power/on")
        await b.until(s => s.ocppConnected, "connected after the power cut", 30000)
        assert.equal(b.csms.authFailures, 0)
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("seed defaults: free vend starts without a card; the UK random delay holds charging back", async () => {
    const b = await startBench({ csms: { configureOnBoot: null } })
    try {
        await bootToAvailable(b)
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "RandomDelay", value: "4,1,1" }), { status: "Accepted" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        const start = await b.message("StartTransaction")
        assert.equal(b.csms.messages({ action: "Authorize" }).length, 0)
        const serial = b.csms.messages({ action: "BootNotification" })[0].payload.chargePointSerialNumber
        assert.equal(start.payload.idTag, serial, "FreevendIdTag defaults to the serial number")
        let s = await b.until(st => st.connectorStatus === "SuspendedEVSE", "held back by the random delay")
        const lb = await b.call("GetConfiguration", { key: ["ChargingLimitedBy"] })
        assert.equal(lb.configurationKey[0].value, "DelayCharge,0A")
        const t0 = Date.now()
        s = await b.until(st => st.contactorClosed, "charging after the delay", 15000)
        const waited = Date.now() - t0
        assert.ok(waited > 2000 && waited < 8000, `charged ${waited} ms after the delay was seen`)

        // RandomDelayCancel skips the delay for one transaction, then resets itself
        await b.api("POST", "/api/ev/unplug")
        await b.message("StopTransaction")
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "RandomDelay", value: "60,1,1" }), { status: "Accepted" })
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "RandomDelayCancel", value: "true" }), { status: "Accepted" })
        await b.api("POST", "/api/ev/charge", { maxCurrentA: 16 })
        await b.until(st => st.contactorClosed, "charging at once", 10000)
        await b.api("POST", "/api/ev/unplug")
        await b.message("StopTransaction", 2)
        await waitFor(async () => (await b.call("GetConfiguration", { key: ["RandomDelayCancel"] })).configurationKey[0].value === "false", {
            what: "RandomDelayCancel reset",
        })
        b.assertClean()
    } finally {
        await b.stop()
    }
})

test("changed keys survive a power cut, a 400-character DefaultPrice included (stored in parts)", async () => {
    const b = await startBench()
    try {
        await bootToAvailable(b)
        const price = JSON.stringify({
            priceText: "0.15 €/kWh, idle fee after charging: 1 €/hr. ".repeat(6).trim(),
            priceTextOffline: "The station is offline. Charging is possible for 0.15 €/kWh.",
            chargingPrice: { kWhPrice: 0.15, hourPrice: 0.0, flatFee: 0.0 },
        })
        assert.ok(price.length > 350 && price.length <= 500, `${price.length} characters`)
        for (const [key, value] of [["DefaultPrice", price], ["MeterValuesSampledData", "Energy.Active.Import.Register,Voltage"], ["ScreenDisplaySetting", "0,50"]])
            assert.deepEqual(await b.call("ChangeConfiguration", { key, value }), { status: "Accepted" }, key)
        // and back to a short value once, so both record layouts are exercised
        assert.deepEqual(await b.call("ChangeConfiguration", { key: "ScreenBrightnessLevel", value: "2" }), { status: "Accepted" })
        await b.api("POST", "/api/power/cut")
        await b.api("POST", "/api/power/on")
        await b.until(s => s.ocppConnected && s.registration === "Accepted", "back online", 30000)
        const cfg = await b.call("GetConfiguration", { key: ["DefaultPrice", "MeterValuesSampledData", "ScreenDisplaySetting", "ScreenBrightnessLevel"] })
        assert.deepEqual(
            cfg.configurationKey.map(k => k.value),
            [price, "Energy.Active.Import.Register,Voltage", "0,50", "2"]
        )
        b.assertClean()
    } finally {
        await b.stop()
    }
})
