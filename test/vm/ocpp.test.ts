import * as ds from "@devicescript/core"
import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { encodeFrame, decodeFrameHeader, maskInPlace, parseWsUrl } from "../../src/ocpp/ws"
import { validate, validationError, hasSpec } from "../../src/ocpp/schema"
import { callIdFromText } from "../../src/ocpp/rpc"
import { toJson } from "../../src/util/json"

function unmasked(frame: Buffer, hdr: number) {
    const body = frame.slice(hdr)
    maskInPlace(body, 0, body.length, frame.getAt(hdr - 4, "i32"))
    return body
}

describe("websocket framing (RFC 6455 §5.2)", () => {
    beforeEach(yieldSlice)
    test("small text frame: FIN, opcode, mask bit, 7-bit length, masked payload", () => {
        const key = Buffer.from([0x37, 0xfa, 0x21, 0x3d])
        const f = encodeFrame(1, Buffer.from("Hello"), key)
        // the RFC's own example (§5.7): a masked "Hello"
        expect(f.toString("hex")).toBe("818537fa213d7f9f4d5158")
        expect(unmasked(f, 6).toString("utf-8")).toBe("Hello")
    })
    test("16-bit extended length (the runtime cannot allocate 64 KiB, so no 64-bit form)", () => {
        const key = Buffer.from([1, 2, 3, 4])
        expect(encodeFrame(1, Buffer.alloc(125), key)[1]).toBe(0x80 | 125)
        const f126 = encodeFrame(1, Buffer.alloc(126), key)
        expect(f126[1]).toBe(0x80 | 126)
        expect((f126[2] << 8) | f126[3]).toBe(126)
        expect(f126.length).toBe(4 + 4 + 126)
        const f = encodeFrame(2, Buffer.alloc(2000), key)
        expect((f[2] << 8) | f[3]).toBe(2000)
        expect(unmasked(f, 8).length).toBe(2000)
    })
    test("masking is its own inverse at every length and offset", () => {
        for (let n = 0; n < 9; n++) {
            const b = Buffer.from("abcdefghij").slice(0, n)
            const c = b.slice(0)
            maskInPlace(c, 0, n, 0x12345678)
            maskInPlace(c, 0, n, 0x12345678)
            expect(c.toString("utf-8")).toBe(b.toString("utf-8"))
        }
    })
    test("server frame headers", () => {
        const h = decodeFrameHeader(Buffer.from([0x81, 0x05]), 2)
        expect(h[0]).toBe(0x81)
        expect(h[1]).toBe(2)
        expect(h[2]).toBe(5)
        const ext = decodeFrameHeader(Buffer.from([0x01, 126, 0x01, 0x00]), 4)
        expect(ext[0]).toBe(0x01)
        expect(ext[1]).toBe(4)
        expect(ext[2]).toBe(256)
        const big = decodeFrameHeader(Buffer.from([0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0]), 10)
        expect(big[1]).toBe(10)
        expect(big[2]).toBe(65536)
        expect(decodeFrameHeader(Buffer.from([0x81, 126, 1]), 3)[1]).toBe(0)
    })
    test("frames no server may send are refused", () => {
        // masked server frame (§5.1), RSV bits without an extension, length ≥ 2^32
        expect(decodeFrameHeader(Buffer.from([0x81, 0x85]), 2)).toBe(undefined)
        expect(decodeFrameHeader(Buffer.from([0xc1, 0x05]), 2)).toBe(undefined)
        expect(decodeFrameHeader(Buffer.from([0x82, 127, 0, 0, 0, 1, 0, 0, 0, 0]), 10)).toBe(undefined)
    })
    test("URLs", () => {
        const u = parseWsUrl("ws://csms.example.com:8180/steve/websocket/CentralSystemService")
        expect(u.tls).toBe(false)
        expect(u.host).toBe("csms.example.com")
        expect(u.port).toBe(8180)
        expect(u.path).toBe("/steve/websocket/CentralSystemService")
        const s = parseWsUrl("wss://ocpp.example.org/cp/CP3211")
        expect(s.tls).toBe(true)
        expect(s.port).toBe(443)
        expect(parseWsUrl("ws://h").path).toBe("/")
        expect(parseWsUrl("ws://h").port).toBe(80)
        expect(parseWsUrl("http://h/x")).toBe(undefined)
        expect(parseWsUrl("ws://h:0/x")).toBe(undefined)
        expect(parseWsUrl("ws://:80/x")).toBe(undefined)
    })
})

describe("payload validation (OCPP-J error codes)", () => {
    beforeEach(yieldSlice)
    test("valid requests pass", () => {
        expect(validate({ type: "Hard" }, "Reset")).toBe(undefined)
        expect(validate({}, "ClearCache")).toBe(undefined)
        expect(validate({ key: ["HeartbeatInterval"] }, "GetConfiguration")).toBe(undefined)
        expect(validate({ idTag: "04A1B2C3", connectorId: 1 }, "RemoteStartTransaction")).toBe(undefined)
        expect(hasSpec("Reset")).toBe(true)
        expect(hasSpec("FooBar")).toBe(false)
    })
    test("a missing required field is an OccurenceConstraintViolation", () => {
        expect(validate({}, "Reset")).toBe("OccurenceConstraintViolation")
        expect(validationError).toBe("type is required")
    })
    test("a wrong type is a TypeConstraintViolation", () => {
        expect(validate({ transactionId: "12" }, "RemoteStopTransaction")).toBe("TypeConstraintViolation")
        expect(validate({ transactionId: 1.5 }, "RemoteStopTransaction")).toBe("TypeConstraintViolation")
        expect(validate({ key: "HeartbeatInterval" }, "GetConfiguration")).toBe("TypeConstraintViolation")
        expect(validate({ key: [12] }, "GetConfiguration")).toBe("TypeConstraintViolation")
        expect(validate({ connectorId: 1, type: null }, "ChangeAvailability")).toBe("TypeConstraintViolation")
    })
    test("bad values are PropertyConstraintViolations", () => {
        expect(validate({ type: "Warm" }, "Reset")).toBe("PropertyConstraintViolation")
        expect(validate({ idTag: "012345678901234567890" }, "RemoteStartTransaction")).toBe("PropertyConstraintViolation")
        expect(
            validate({ connectorId: 1, expiryDate: "tomorrow", idTag: "A", reservationId: 1 }, "ReserveNow")
        ).toBe("PropertyConstraintViolation")
    })
    test("structure errors are FormationViolations", () => {
        expect(validate([], "Reset")).toBe("FormationViolation")
        expect(validate("Hard", "Reset")).toBe("FormationViolation")
        expect(validate({ type: "Hard", extra: 1 }, "Reset")).toBe("FormationViolation")
    })
    test("nested charging profile", () => {
        const p: any = {
            connectorId: 1,
            csChargingProfiles: {
                chargingProfileId: 1,
                stackLevel: 0,
                chargingProfilePurpose: "TxDefaultProfile",
                chargingProfileKind: "Absolute",
                chargingSchedule: {
                    chargingRateUnit: "A",
                    startSchedule: "2026-11-30T00:00:00Z",
                    chargingSchedulePeriod: [{ startPeriod: 0, limit: 16 }],
                },
            },
        }
        expect(validate(p, "SetChargingProfile")).toBe(undefined)
        p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit = "16"
        expect(validate(p, "SetChargingProfile")).toBe("TypeConstraintViolation")
        expect(validationError).toBe("csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit must be a number")
        delete p.csChargingProfiles.chargingSchedule.chargingSchedulePeriod[0].limit
        expect(validate(p, "SetChargingProfile")).toBe("OccurenceConstraintViolation")
    })
    test("answers from the central system are checked too", () => {
        expect(validate({ status: "Accepted", currentTime: "2026-11-30T12:00:00Z", interval: 60 }, "BootNotification.conf")).toBe(undefined)
        expect(validate({ status: "Accepted", interval: 60 }, "BootNotification.conf")).toBe("OccurenceConstraintViolation")
        expect(validate({ idTagInfo: { status: "Unknown" } }, "Authorize.conf")).toBe("PropertyConstraintViolation")
    })
})

describe("RPC frames", () => {
    beforeEach(yieldSlice)
    test("the id of a CALL that does not parse", () => {
        expect(callIdFromText('[2,"abc-1","Reset",{')).toBe("abc-1")
        expect(callIdFromText(' [ 2 , "x" ')).toBe("x")
        expect(callIdFromText('[3,"abc-1",{}]')).toBe(undefined)
        expect(callIdFromText("garbage")).toBe(undefined)
        expect(callIdFromText('[2,"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"')).toBe(undefined)
    })
})

describe("JSON output", () => {
    beforeEach(yieldSlice)
    test("non-ASCII text survives", () => {
        expect(toJson({ t: "Prix 0,25 € / kWh é" })).toBe('{"t":"Prix 0,25 € / kWh é"}')
        expect(JSON.parse(toJson(["日本語"]))[0]).toBe("日本語")
    })
    test("escapes that are text stay text", () => {
        expect(toJson({ t: "a\\u00e9b" })).toBe('{"t":"a\\\\u00e9b"}')
        expect(toJson({ t: 'q"\n' })).toBe('{"t":"q\\"\\n"}')
        expect(toJson([1, 2147483647, 1796042531000])).toBe("[1,2147483647,1796042531000]")
    })
})
