import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { configCheck, configGet, configNames, configAccess, configChange, configDefaults } from "../../src/store/config"

/** [key, value, accepted] — boundaries of every rule of the seed (§4.2.1, §4.3, §6.2). */
const CASES: any[] = [
    ["HeartbeatInterval", "0", true], ["HeartbeatInterval", "5", true], ["HeartbeatInterval", "-1", false], ["HeartbeatInterval", "abc", false],
    ["MeterValueSampleInterval", "0", true], ["MeterValueSampleInterval", "3", false], ["MeterValueSampleInterval", "4", true],
    ["MeterValueSampleInterval", "65534", true], ["MeterValueSampleInterval", "65535", false], ["MeterValueSampleInterval", "-1", false],
    ["ClockAlignedDataInterval", "0", true], ["ClockAlignedDataInterval", "29", false], ["ClockAlignedDataInterval", "30", true],
    ["ClockAlignedDataInterval", "86399", true], ["ClockAlignedDataInterval", "86400", false],
    ["ConnectionTimeOut", "9", false], ["ConnectionTimeOut", "10", true], ["ConnectionTimeOut", "240", true], ["ConnectionTimeOut", "241", false],
    ["WebSocketPingInterval", "0", true], ["WebSocketPingInterval", "9", false], ["WebSocketPingInterval", "10", true],
    ["WebSocketPingInterval", "65535", true], ["WebSocketPingInterval", "65536", false], ["WebSocketPingInterval", "-10", false],
    ["ResetRetries", "0", true], ["ResetRetries", "1", false],
    ["LocalPreAuthorize", "true", true], ["LocalPreAuthorize", "FALSE", true], ["LocalPreAuthorize", "yes", false], ["LocalPreAuthorize", "1", false],
    ["MeterValuesSampledData", "Energy.Active.Import.Register,Voltage", true],
    ["MeterValuesSampledData", "Energy.Active.Import.Interval", false], // aligned-only measurand
    ["MeterValuesSampledData", "Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Active.Import,Voltage", true],
    ["MeterValuesSampledData", "Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Active.Import,Voltage,Voltage", false],
    ["MeterValuesSampledData", "", true], ["MeterValuesSampledData", "Temperature", false],
    ["MeterValuesAlignedData", "Energy.Active.Import.Interval,Power.Offered", true],
    ["MeterValuesAlignedData", "Current.Import,Current.Offered,Energy.Active.Import.Register,Power.Offered,Voltage", false], // > 4
    ["StopTxnAlignedData", "Current.Import,Current.Offered,Energy.Active.Import.Register,Energy.Active.Import.Interval,Power.Active.Import,Power.Offered,Voltage", true],
    ["StopTxnSampledData", "Power.Offered", false],
    ["ConnectorPhaseRotation", "0.RST,1.RST", true], ["ConnectorPhaseRotation", "1.NotApplicable", true],
    ["ConnectorPhaseRotation", "2.RST", false], ["ConnectorPhaseRotation", "0.XYZ", false],
    ["AuthorizationKey", "0123456789abcde", false], ["AuthorizationKey", "0123456789abcdef", true],
    ["AuthorizationKey", "4F43415F4F4354545F61646D696E5F74657374", true], ["AuthorizationKey", "0123456789012345678901234567890123456789X", false],
    ["AuthorizationKey", "sixteen chars!!!", false],
    ["FreevendIdTag", "01234567890123456789", true], ["FreevendIdTag", "012345678901234567890", false],
    ["TimeOffset", "-05:00", true], ["TimeOffset", "+14:00", true], ["TimeOffset", "", true], ["TimeOffset", "5:00", false], ["TimeOffset", "+15:00", false],
    ["NextTimeOffsetTransitionDateTime", "2022-03-28T02:00:00+01:00", true], ["NextTimeOffsetTransitionDateTime", "tomorrow", false],
    ["TimeOffsetNextTransition", "-04:00", true], ["TimeOffsetNextTransition", "-04", false],
    ["ChangeNFCPower", "100,1", true], ["ChangeNFCPower", "0,0", true], ["ChangeNFCPower", "255,1", true],
    ["ChangeNFCPower", "256,1", false], ["ChangeNFCPower", "100", false], ["ChangeNFCPower", "100,2", false], ["ChangeNFCPower", "100,1,1", false],
    ["DefaultSolarMode", "0,1", true], ["DefaultSolarMode", "1,2,4", true], ["DefaultSolarMode", "1,2", false], ["DefaultSolarMode", "1,2,7", false],
    ["DefaultSolarMode", "1,3", true], ["DefaultSolarMode", "1,3,4", false], ["DefaultSolarMode", "2,1", false], ["DefaultSolarMode", "1,4", false],
    ["ActiveSolarMode", "1", true], ["ActiveSolarMode", "2,4", true], ["ActiveSolarMode", "2", false], ["ActiveSolarMode", "2,7", false],
    ["UserSetMaxCurrent", "6", true], ["UserSetMaxCurrent", "5", false], ["UserSetMaxCurrent", "80", true], ["UserSetMaxCurrent", "81", false],
    ["ExternalMeterSampleInterval", "3", false], ["ExternalMeterSampleInterval", "4", true], ["ExternalMeterSampleInterval", "65535", true],
    ["RandomDelay", "600,2,1", true], ["RandomDelay", "1800,1,0", true], ["RandomDelay", "1801,1,0", false],
    ["RandomDelay", "600,3,1", false], ["RandomDelay", "600,2", false], ["RandomDelay", "600,2,2", false],
    ["ScreenDisplaySetting", "0,10", true], ["ScreenDisplaySetting", "10,100", true], ["ScreenDisplaySetting", "300,50", true],
    ["ScreenDisplaySetting", "5,50", false], ["ScreenDisplaySetting", "301,50", false], ["ScreenDisplaySetting", "120,9", false], ["ScreenDisplaySetting", "120", false],
    ["ScreenBrightnessLevel", "1", true], ["ScreenBrightnessLevel", "2", true], ["ScreenBrightnessLevel", "3", false], ["ScreenBrightnessLevel", "0", false],
    ["DefaultPrice", "0", true], ["DefaultPrice", '{"priceText":"0.15 $/kWh","priceTextOffline":"offline","chargingPrice":{"kWhPrice":0.15}}', true],
    ["DefaultPrice", '{"price":1}', false], ["DefaultPrice", "cheap", false],
    ["TransactionMessageAttempts", "0", true], ["TransactionMessageAttempts", "-1", false],
    ["FelicaAdvancedAuthorization", "true", true], ["VentilationAvailable", "maybe", false],
]

/** Defaults of the seed (board-dependent ones filled in as on the simulator board). */
const DEFAULTS: any[] = [
    ["ClockAlignedDataInterval", "0"], ["ConnectionTimeOut", "120"], ["GetConfigurationMaxKeys", "20"], ["HeartbeatInterval", "120"],
    ["MeterValuesAlignedData", "Energy.Active.Import.Register"], ["MeterValuesAlignedDataMaxLength", "4"], ["MeterValueSampleInterval", "30"],
    ["LocalAuthorizeOffline", "true"], ["LocalPreAuthorize", "false"], ["NumberOfConnectors", "1"], ["WebSocketPingInterval", "15"],
    ["AllowOfflineTxForUnknownId", "false"], ["AuthorizeRemoteTxRequests", "false"], ["LocalAuthListEnabled", "true"],
    ["LocalAuthListMaxLength", "16"], ["SendLocalListMaxLength", "8"], ["ChargeProfileMaxStackLevel", "16"],
    ["ChargingScheduleAllowedChargingRateUnit", "Current,Power"], ["ChargingScheduleMaxPeriods", "25"], ["MaxChargingProfilesInstalled", "16"],
    ["ResetRetries", "0"], ["TransactionMessageAttempts", "15"], ["TransactionMessageRetryInterval", "10"], ["MaxEnergyOnInvalidId", "1000"],
    ["StopTransactionOnInvalidId", "true"], ["MeterValuesSampledDataMaxLength", "5"], ["ConnectorPhaseRotation", "0.Unknown,1.Unknown"],
    ["StopTxnAlignedDataMaxLength", "7"], ["StopTxnSampledDataMaxLength", "5"], ["StopTransactionOnEVSideDisconnect", "true"],
    ["UnlockConnectorOnEVSideDisconnect", "true"], ["AuthorizationCacheEnabled", "false"], ["FreevendEnabled", "true"],
    ["FreevendIdTag", "SERIAL"], ["TimeOffset", "-05:00"], ["ChangeNFCPower", "10,1"], ["HTTPBasicAuthEnable", "true"],
    ["DefaultSolarMode", "0,1"], ["ActiveSolarMode", ""], ["UserSetMaxCurrent", "32"], ["MeterValueReportOnSuspendedEV", "true"],
    ["StopChargingOnlyWithSameCard", "false"], ["ExternalMeterSampleInterval", "30"], ["AuthReqInOfflineMode", "true"],
    ["StartTransactionBeforeEnergyDelivered", "true"], ["ABBIdTag", "true"], ["ChargeRecordUseTotalEnergy", "false"],
    ["PWMAfterStartTransaction", "false"], ["RandomDelay", "600,2,1"], ["RandomDelayCancel", "false"], ["ScreenDisplaySetting", "120,100"],
    ["ScreenBrightnessLevel", "1"], ["CustomDisplayCostAndPrice", "false"], ["DefaultPrice", "0"], ["FelicaAdvancedAuthorization", "false"],
]

describe("configuration registry", () => {
    beforeEach(yieldSlice)
    test("every boundary of every rule", async () => {
        for (let i = 0; i < CASES.length; i++) {
            const [key, value, ok] = CASES[i]
            const got = configCheck(key, value) !== undefined
            if (got !== ok) console.log("wrong: " + key + "=" + value)
            expect(got).toBe(ok)
            if (i % 10 === 0) await yieldSlice()
        }
    })
    test("normalised values: trimmed lists, lower-case booleans", () => {
        expect(configCheck("MeterValuesSampledData", " Voltage , Current.Import ")).toBe("Voltage,Current.Import")
        expect(configCheck("LocalPreAuthorize", "TRUE")).toBe("true")
        expect(configCheck("HeartbeatInterval", " 0300")).toBe("300")
    })
    test("the seed's defaults", async () => {
        configDefaults["$P"] = "0.Unknown,1.Unknown"
        configDefaults["$D"] = "16"
        configDefaults["$S"] = "SERIAL"
        configDefaults["$R"] = "32"
        for (let i = 0; i < DEFAULTS.length; i++) {
            const [key, value] = DEFAULTS[i]
            if (configGet(key) !== value) console.log("default of " + key + ": " + configGet(key))
            expect(configGet(key)).toBe(value)
            if (i % 10 === 0) await yieldSlice()
        }
    })
    test("access: read-only, read-write, write-only; the seed's unsupported keys are unknown", () => {
        expect(configAccess("NumberOfConnectors")).toBe("R")
        expect(configAccess("ChargingLimitedBy")).toBe("R")
        expect(configAccess("HeartbeatInterval")).toBe("RW")
        expect(configAccess("AuthorizationKey")).toBe("W")
        for (const k of ["MinimumStatusDuration", "BlinkRepeat", "LightIntensity", "ConnectorPhaseRotationMaxLength",
            "SupportedFeatureProfilesMaxLength", "ConnectorSwitch3to1PhaseSupported", "ReserveConnectorZeroSupported", "Heartbeat"])
            expect(configAccess(k)).toBe(undefined)
        expect(configNames().length).toBe(66)
    })
    test("ChangeConfiguration: Accepted, Rejected (value, read-only), NotSupported", async () => {
        expect(await configChange("MeterValueSampleInterval", "60")).toBe("Accepted")
        expect(configGet("MeterValueSampleInterval")).toBe("60")
        expect(await configChange("MeterValueSampleInterval", "2")).toBe("Rejected")
        expect(configGet("MeterValueSampleInterval")).toBe("60")
        expect(await configChange("NumberOfConnectors", "2")).toBe("Rejected")
        expect(await configChange("GetConfigurationMaxKeys", "20")).toBe("Rejected")
        expect(await configChange("Testing", "1")).toBe("NotSupported")
        expect(await configChange("MeterValueSampleInterval", "30")).toBe("Accepted")
    })
    test("a long value (DefaultPrice, 400 characters) is stored in parts and read back", async () => {
        const parts: string[] = []
        for (let i = 0; i < 7; i++) parts.push("0.15 EUR/kWh, idle fee after charging 1 EUR/h. ")
        const text = '{"priceText":"' + parts.join("") + '"}'
        expect(text.length > 300).toBe(true)
        expect(await configChange("DefaultPrice", text)).toBe("Accepted")
        expect(configGet("DefaultPrice")).toBe(text)
        expect(await configChange("DefaultPrice", "0")).toBe("Accepted")
    })
})
