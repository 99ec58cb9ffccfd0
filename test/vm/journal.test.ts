import { describe, test, expect, beforeEach } from "@devicescript/test"
import { yieldSlice } from "./harness"
import {
    journalAppend,
    journalHead,
    journalDrop,
    journalCount,
    journalLoad,
    journalNextSeq,
    journalBytes,
    journalExtendTail,
    journalLimit,
    journalSetRegion,
    journalRegionBytes,
    journalSlots,
    entryBytes,
    Priority,
} from "../../src/ocpp/journal"
import { captureSample, sampleToMeterValue, nextAlignedAfter, Ctx, txTick, endTransaction } from "../../src/ocpp/transaction"
import { coreInit, cp } from "../../src/ocpp/core"
import { CpState } from "../../src/evse/pilot"
import { IecController } from "../../src/evse/iec"
import { EnergyMeter } from "../../src/evse/meter"

async function drain() {
    await journalLoad()
    while (journalCount()) await journalDrop()
}

function rec(n: number, bytes = 8) {
    const b = Buffer.alloc(bytes)
    b[0] = n
    return b
}

describe("transaction journal (flash FIFO)", () => {
    beforeEach(yieldSlice)
    test("records come back in order and leave only when dropped", async () => {
        await drain()
        const first = journalNextSeq()
        expect(await journalAppend(rec(1), Priority.Essential)).toBe(first)
        await journalAppend(rec(2), Priority.Essential)
        await journalAppend(rec(3), Priority.Essential)
        expect(journalCount()).toBe(3)
        expect((await journalHead())[0]).toBe(1)
        await journalDrop()
        expect((await journalHead())[0]).toBe(2)
        // a power cut now: the head pointer was not rewritten, the scan finds the live records
        await journalLoad()
        expect(journalCount()).toBe(2)
        expect((await journalHead())[0]).toBe(2)
        expect(journalBytes).toBe(2 * entryBytes(8))
        await drain()
        expect(journalCount()).toBe(0)
    })
    test("after many deletions the boot scan still finds head and tail", async () => {
        await drain()
        for (let i = 0; i < 20; i++) await journalAppend(rec(i, 4), Priority.Essential)
        for (let i = 0; i < 18; i++) await journalDrop()
        await journalLoad()
        expect(journalCount()).toBe(2)
        expect((await journalHead())[0]).toBe(18)
        await drain()
        await journalLoad()
        expect(journalCount()).toBe(0)
    })
    test("two power cuts during a replay: the head is found again (the window restarts at each boot)", async () => {
        await drain()
        for (let i = 0; i < 40; i++) await journalAppend(rec(i, 4), Priority.Essential)
        for (let i = 0; i < 8; i++) await journalDrop()
        await journalLoad()
        for (let i = 0; i < 12; i++) await journalDrop()
        await journalLoad()
        expect(journalCount()).toBe(20)
        expect((await journalHead())[0]).toBe(20)
        await drain()
    })
    test("after a boot with an empty journal, sequence numbers (local transaction ids) are not reused", async () => {
        await drain()
        const first = journalNextSeq()
        for (let i = 0; i < 3; i++) await journalAppend(rec(i, 4), Priority.Essential)
        const used = journalNextSeq()
        await drain()
        // the boot after: nothing live within the window
        await journalLoad()
        expect(((journalNextSeq() - used) & 0xffff) > 0).toBe(true)
        expect(((journalNextSeq() - first) & 0xffff) > 3).toBe(true)
    })
    test("sampled values are thinned first; StartTransaction/StopTransaction always written", async () => {
        await drain()
        let sampled = 0
        while ((await journalAppend(rec(9, 32), Priority.Sampled)) >= 0) sampled++
        expect(sampled > 10).toBe(true)
        expect(journalBytes <= journalLimit(Priority.Sampled)).toBe(true)
        expect(await journalAppend(rec(10, 32), Priority.Aligned) >= 0).toBe(true)
        expect(await journalAppend(rec(11, 32), Priority.Essential) >= 0).toBe(true)
        expect(journalCount()).toBe(sampled + 2)
        await drain()
    })
    test("capacity: 20 offline transactions with 6 clock-aligned values each fit below the aligned-values limit of the ESP32's 16 KiB region", async () => {
        await drain()
        const region = journalRegionBytes
        const slots = journalSlots
        journalSetRegion(16384, 128)
        for (let t = 0; t < 20; t++) {
            // StartTransaction: header 3 + time 4 + meterStart 4 + an 8-character idTag
            expect((await journalAppend(rec(1, 19), Priority.Essential)) >= 0).toBe(true)
            // aligned samples of one measurand (11 bytes each) packed into one MeterValues record
            let mv = rec(2, 3 + 11)
            expect((await journalAppend(mv, Priority.Aligned)) >= 0).toBe(true)
            for (let k = 1; k < 6; k++) {
                mv = Buffer.concat(mv, Buffer.alloc(11))
                expect(await journalExtendTail(mv, Priority.Aligned)).toBe(true)
            }
            // StopTransaction with Transaction.Begin/End samples of 5 measurands: 13 + 8 + 2 × 31
            expect((await journalAppend(rec(3, 83), Priority.Essential)) >= 0).toBe(true)
        }
        console.log("journal bytes for 20 offline transactions with 6 aligned values each: " + journalBytes)
        expect(journalBytes <= journalLimit(Priority.Aligned)).toBe(true)
        await drain()
        journalSetRegion(region, slots)
        await drain()
    })
})

describe("meter value samples", () => {
    beforeEach(yieldSlice)
    test("clock-aligned instants restart at local midnight", () => {
        const day = 86400 * 20000
        expect(nextAlignedAfter(day + 100, 900, 0)).toBe(day + 900)
        expect(nextAlignedAfter(day + 900, 900, 0)).toBe(day + 1800)
        // 7 h does not divide a day: the grid restarts at midnight, 21:00 → 00:00
        expect(nextAlignedAfter(day + 3 * 25200 + 5, 25200, 0)).toBe(day + 86400)
        // TimeOffset -05:00: local midnight is 05:00 UTC
        expect(nextAlignedAfter(day + 5 * 3600 - 10, 86400, -5 * 3600)).toBe(day + 5 * 3600)
    })
    test("a sample keeps the measurands the board has, with units and phases", () => {
        const meter = new EnergyMeter()
        meter.restore(12345)
        const hw: any = { measuresCurrentVoltage: true, voltageMv: 231400, currentMa: 15960, phases: 1 }
        const ctl = new IecController()
        ctl.contactor = true
        coreInit(hw, ctl, meter)
        const b = captureSample("Energy.Active.Import.Register,Voltage,Current.Import,Frequency", Ctx.End)
        const mv = sampleToMeterValue(b, 0)
        expect(mv.sampledValue.length).toBe(3)
        expect(mv.sampledValue[0].value).toBe("12345")
        expect(mv.sampledValue[0].unit).toBe("Wh")
        expect(mv.sampledValue[0].context).toBe("Transaction.End")
        expect(mv.sampledValue[1].value).toBe("231.4")
        expect(mv.sampledValue[1].phase).toBe("L1-N")
        expect(mv.sampledValue[2].value).toBe("16")
        expect(mv.sampledValue[2].phase).toBe("L1")
        // a board without current/voltage measurement reports neither
        hw.measuresCurrentVoltage = false
        expect(sampleToMeterValue(captureSample("Voltage,Current.Import,Energy.Active.Import.Register", Ctx.Periodic), 0).sampledValue.length).toBe(1)
    })
})

describe("offline storage error", () => {
    beforeEach(yieldSlice)
    test("a StartTransaction the journal cannot take raises 0x8000, charging goes on; the next good write clears it", async () => {
        await drain()
        const hw: any = { measuresCurrentVoltage: false, phases: 1, socketOutlet: false }
        const ctl = new IecController()
        const meter = new EnergyMeter()
        coreInit(hw, ctl, meter)
        // the journal up to its hard limit (6/8 of a small region: the rest stays free)
        const region = journalRegionBytes
        const slots = journalSlots
        journalSetRegion(3072, 64)
        try {
            for (let n = 0; n < 200; n++) await journalAppend(rec(1, 6), Priority.Essential)
        } catch (e) {}
        expect(journalBytes <= journalLimit(Priority.Essential)).toBe(true)
        cp.available = true
        cp.finishing = false
        cp.authIdTag = "04FULL01"
        ctl.evState = CpState.B
        await txTick()
        expect(cp.txActive).toBe(true)
        expect(cp.storageFault).toBe(0x8000)
        // the central system answers: the journal drains, the stop finds room
        while (journalCount()) await journalDrop()
        endTransaction("Local")
        await txTick()
        expect(cp.storageFault).toBe(0)
        expect(cp.txActive).toBe(false)
        await drain()
        journalSetRegion(region, slots)
    })
})
