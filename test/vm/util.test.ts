import * as ds from "@devicescript/core"
import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { parseIso8601, formatIso8601, daysFromCivil } from "../../src/util/iso8601"
import { base64Encode, hexDecode } from "../../src/util/encoding"
import { sha1 } from "../../src/util/sha1"

describe("iso8601", () => {
    beforeEach(yieldSlice)
    test("days from civil", () => {
        expect(daysFromCivil(1970, 1, 1)).toBe(0)
        expect(daysFromCivil(2000, 3, 1)).toBe(11017)
        expect(daysFromCivil(2024, 2, 29)).toBe(19782)
    })
    test("parses UTC with and without fraction", () => {
        expect(parseIso8601("2026-11-30T12:42:11Z")).toBe(1796042531000)
        expect(parseIso8601("2026-11-30T12:42:11.123Z")).toBe(1796042531123)
        expect(parseIso8601("2026-11-30T12:42:11.5Z")).toBe(1796042531500)
        expect(parseIso8601("2026-11-30T12:42:11")).toBe(1796042531000)
    })
    test("parses offsets", () => {
        expect(parseIso8601("2026-11-30T13:42:11+01:00")).toBe(1796042531000)
        expect(parseIso8601("2026-11-30T07:42:11-05:00")).toBe(1796042531000)
    })
    test("rejects garbage", () => {
        expect(isNaN(parseIso8601("2026-13-30T12:42:11Z"))).toBe(true)
        expect(isNaN(parseIso8601("2026-11-30 12:42"))).toBe(true)
        expect(isNaN(parseIso8601("2026-11-30T12:42:11Zjunk"))).toBe(true)
        expect(isNaN(parseIso8601(undefined))).toBe(true)
        expect(isNaN(parseIso8601("2026-11-30T12:42:11."))).toBe(true)
    })
    test("formats", () => {
        expect(formatIso8601(0)).toBe("1970-01-01T00:00:00Z")
        expect(formatIso8601(1796042531999)).toBe("2026-11-30T12:42:11Z")
        expect(formatIso8601(951782400000)).toBe("2000-02-29T00:00:00Z")
        expect(formatIso8601(4102444799000)).toBe("2099-12-31T23:59:59Z")
    })
    test("round trips every day of 2024", async () => {
        for (let d = 0; d < 366; d++) {
            const t = 1704067200000 + d * 86400000 + 3723000
            expect(parseIso8601(formatIso8601(t))).toBe(t)
            // stay under the VM's per-slice operation budget
            if (d % 50 === 0) await ds.sleep(1)
        }
    })
})

describe("encoding", () => {
    beforeEach(yieldSlice)
    test("base64", () => {
        expect(base64Encode(Buffer.from(""))).toBe("")
        expect(base64Encode(Buffer.from("f"))).toBe("Zg==")
        expect(base64Encode(Buffer.from("fo"))).toBe("Zm8=")
        expect(base64Encode(Buffer.from("foo"))).toBe("Zm9v")
        expect(base64Encode(Buffer.from("CP3211:secret-key-0123"))).toBe("Q1AzMjExOnNlY3JldC1rZXktMDEyMw==")
    })
    test("hex decode", () => {
        expect(hexDecode("4f43415f").toString("utf-8")).toBe("OCA_")
        expect(hexDecode("4F4")).toBe(undefined)
        expect(hexDecode("zz")).toBe(undefined)
    })
})

describe("sha1", () => {
    beforeEach(yieldSlice)
    test("known vectors", () => {
        expect(sha1(Buffer.from("abc")).toString("hex")).toBe("a9993e364706816aba3e25717850c26c9cd0d89d")
        expect(sha1(Buffer.from("")).toString("hex")).toBe("da39a3ee5e6b4b0d3255bfef95601890afd80709")
        expect(sha1(Buffer.from("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")).toString("hex")).toBe(
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        )
    })
    test("RFC 6455 accept example", () => {
        const key = "dGhlIHNhbXBsZSBub25jZQ==" + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        expect(base64Encode(sha1(Buffer.from(key)))).toBe("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    })
})
