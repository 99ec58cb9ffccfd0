import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import { Mfrc522, CardReader, crcA, uidToIdTag } from "../../src/hal/mfrc522"
import { Mfrc522Model } from "./mfrc522model"

function hex(b: Buffer) {
    return b ? b.toString("hex").toUpperCase() : "none"
}

describe("MFRC522 driver against the register model", () => {
    beforeEach(yieldSlice)
    test("CRC_A of ISO 14443-3 (HLTA 50 00 → 57 CD)", () => {
        expect(crcA(Buffer.from([0x50, 0x00]), 2)).toBe(0xcd57)
    })
    test("init checks VersionReg and sets timer, 100 % ASK, CRC preset, antenna", async () => {
        const m = new Mfrc522Model(0x91)
        const chip = new Mfrc522(m)
        expect(await chip.init()).toBe(true)
        expect(chip.version).toBe(0x91)
        expect(m.regs[0x2a]).toBe(0x80)
        expect(m.regs[0x2b]).toBe(0xa9)
        expect(m.regs[0x2c] * 256 + m.regs[0x2d]).toBe(1000)
        expect(m.regs[0x15]).toBe(0x40)
        expect(m.regs[0x11]).toBe(0x3d)
        expect(m.regs[0x14] & 3).toBe(3)
        expect(await new Mfrc522(new Mfrc522Model(0x12)).init()).toBe(false)
    })
    test("4-byte UID: one swipe is one read", async () => {
        const m = new Mfrc522Model()
        const chip = new Mfrc522(m)
        await chip.init()
        expect(await chip.poll()).toBe(undefined)
        m.addCard("04A1B2C3")
        expect(hex(await chip.poll())).toBe("04A1B2C3")
        // the card was halted: it stays quiet while it is in the field
        expect(await chip.poll()).toBe(undefined)
        m.removeCards()
        m.addCard("04A1B2C3")
        expect(hex(await chip.poll())).toBe("04A1B2C3")
    })
    test("7- and 10-byte UIDs over cascade levels 2 and 3", async () => {
        const m = new Mfrc522Model()
        const chip = new Mfrc522(m)
        await chip.init()
        m.addCard("04112233445566")
        const uid7 = await chip.poll()
        expect(hex(uid7)).toBe("04112233445566")
        expect(uidToIdTag(uid7)).toBe("04112233445566")
        m.removeCards()
        m.addCard("0102030405060708090A")
        const uid10 = await chip.poll()
        expect(hex(uid10)).toBe("0102030405060708090A")
        expect(uidToIdTag(uid10).length).toBe(20)
    })
    test("two cards in the field: anticollision selects one, then the other", async () => {
        const m = new Mfrc522Model()
        const chip = new Mfrc522(m)
        await chip.init()
        m.addCard("11223344")
        m.addCard("11223355")
        const first = hex(await chip.poll())
        const second = hex(await chip.poll())
        // the collision bit is taken as 1: 0x55 (…0101) before 0x44 (…0100)
        expect(first).toBe("11223355")
        expect(second).toBe("11223344")
        expect(await chip.poll()).toBe(undefined)
    })
    test("three cards, collisions in two rounds and at two levels", async () => {
        const m = new Mfrc522Model()
        const chip = new Mfrc522(m)
        await chip.init()
        m.addCard("0400112233AABB")
        m.addCard("0400112233AACC")
        m.addCard("F0E0D0C0")
        const seen: string[] = []
        for (let i = 0; i < 4; i++) {
            const u = await chip.poll()
            if (u) seen.push(hex(u))
        }
        seen.sort()
        expect(seen.join(" ")).toBe("0400112233AABB 0400112233AACC F0E0D0C0")
    })
    test("a broken SPI link is reported as no card, and the reader recovers", async () => {
        const m = new Mfrc522Model()
        const reader = new CardReader(new Mfrc522(m))
        m.broken = true
        m.addCard("04A1B2C3")
        expect(await reader.poll()).toBe(undefined)
        expect(await reader.poll()).toBe(undefined)
        m.broken = false
        expect(hex(await reader.poll())).toBe("04A1B2C3")
    })
    test("a chip that resets while running is initialised again", async () => {
        const m = new Mfrc522Model()
        const reader = new CardReader(new Mfrc522(m))
        expect(await reader.poll()).toBe(undefined)
        // lost power: antenna off, registers back to reset values
        m.reset()
        m.broken = true
        expect(await reader.poll()).toBe(undefined)
        m.broken = false
        m.addCard("0A0B0C0D")
        expect(hex(await reader.poll())).toBe("0A0B0C0D")
    })
    test("ChangeNFCPower: antenna off reads nothing, gain goes to RFCfgReg", async () => {
        const m = new Mfrc522Model()
        const reader = new CardReader(new Mfrc522(m))
        m.addCard("04A1B2C3")
        reader.enabled = false
        expect(await reader.poll()).toBe(undefined)
        expect(m.regs[0x14] & 3).toBe(0)
        reader.enabled = true
        reader.gain = 7
        expect(hex(await reader.poll())).toBe("04A1B2C3")
        expect(m.regs[0x26]).toBe(0x70)
    })
})
