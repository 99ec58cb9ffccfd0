import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { storeRead, storeWrite, storeWriteText, storeReadText, storeDelete, storeCapacity, storeOnCorrupt, storeStats, storeWriteRaw, crc16 } from "../../src/store/store"

describe("flash records", () => {
    beforeEach(yieldSlice)
    test("CRC-16/CCITT-FALSE check value", () => {
        expect(crc16(Buffer.from("123456789"), 9)).toBe(0x29b1)
    })
    test("write, read back, delete", async () => {
        await storeWriteText("t1", "hello")
        expect(await storeReadText("t1")).toBe("hello")
        await storeDelete("t1")
        expect(await storeReadText("t1")).toBe(undefined)
    })
    test("records above the 232-byte entry limit are refused before they reach flash", async () => {
        expect(storeCapacity("t2")).toBe(232 - 2 - 1 - 2)
        await storeWrite("t2", Buffer.alloc(storeCapacity("t2")))
        let threw = false
        try {
            await storeWrite("t2", Buffer.alloc(storeCapacity("t2") + 1))
        } catch (e) {
            threw = true
        }
        expect(threw).toBe(true)
        expect((await storeRead("t2")).length).toBe(storeCapacity("t2"))
    })
    test("a torn or corrupt record reads as missing and is reported", async () => {
        let reported = ""
        storeOnCorrupt(key => (reported = key))
        // what a torn write could leave: the payload without its CRC
        await storeWriteRaw("t3", Buffer.from("garbage"))
        const before = storeStats.corrupt
        expect(await storeRead("t3")).toBe(undefined)
        expect(reported).toBe("t3")
        expect(storeStats.corrupt).toBe(before + 1)
    })
})
