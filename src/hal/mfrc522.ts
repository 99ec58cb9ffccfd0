// MFRC522 RFID reader (NXP datasheet rev. 3.9) over SPI, ISO/IEC 14443-3 type A:
// REQA → anticollision and select, cascade levels 1-3 (4-, 7- and 10-byte UIDs) → HLTA.
// The SPI link is passed in, so the same driver runs against the chip on the ESP32
// and against the register-level model in the tests.

/** One full-duplex SPI transfer with chip select asserted around it. */
export interface SpiLink {
    transfer(tx: Buffer): Promise<Buffer>
}

const enum Reg {
    Command = 0x01,
    ComIrq = 0x04,
    Error = 0x06,
    FifoData = 0x09,
    FifoLevel = 0x0a,
    Control = 0x0c,
    BitFraming = 0x0d,
    Coll = 0x0e,
    Mode = 0x11,
    TxMode = 0x12,
    RxMode = 0x13,
    TxControl = 0x14,
    TxAsk = 0x15,
    ModWidth = 0x24,
    RfCfg = 0x26,
    TMode = 0x2a,
    TPrescaler = 0x2b,
    TReloadH = 0x2c,
    TReloadL = 0x2d,
    Version = 0x37,
}

const enum Cmd {
    Idle = 0x00,
    Transceive = 0x0c,
    SoftReset = 0x0f,
}

/**
 * Chip setup as register/value pairs: no TX/RX CRC by default (frames carry their own),
 * modulation width, a 25 ms receive timeout (TAuto, prescaler 0xA9 → 40 kHz, reload
 * 1000), 100 % ASK, CRC preset 0x6363 (ISO 14443-3 CRC_A).
 */
const INIT_SEQUENCE = hex`
    12 00  13 00  24 26
    2a 80  2b a9  2c 03  2d e8
    15 40  11 3d`

/** Transceive results besides a received frame. */
export const enum RfidStatus {
    Ok = 0,
    Timeout = 1,
    Collision = 2,
    Error = 3,
}

export class Mfrc522 {
    /** VersionReg value found at init (0x91 = v1.0, 0x92 = v2.0); 0 when not detected. */
    version = 0
    /** Bits of the last received frame's final byte (0 = all 8). */
    private lastBits = 0
    /** Bit position of the last collision within the frame (1-based), 0 when none. */
    private collPos = 0

    constructor(private spi: SpiLink) {}

    async write(reg: number, value: number) {
        const b = Buffer.alloc(2)
        b[0] = (reg << 1) & 0x7e
        b[1] = value
        await this.spi.transfer(b)
    }

    async read(reg: number) {
        const b = Buffer.alloc(2)
        b[0] = 0x80 | ((reg << 1) & 0x7e)
        const r = await this.spi.transfer(b)
        return r[1]
    }

    private async setBits(reg: number, mask: number, on: boolean) {
        const v = await this.read(reg)
        await this.write(reg, on ? v | mask : v & ~mask)
    }

    /**
     * Reset and configure the chip, antenna on.
     * @returns false when no MFRC522 answers (wrong wiring, broken SPI link)
     */
    async init() {
        await this.write(Reg.Command, Cmd.SoftReset)
        // the oscillator restarts after a soft reset (datasheet §8.8.2): wait for PowerDown to clear
        for (let i = 0; i < 10; i++) {
            if (!((await this.read(Reg.Command)) & 0x10)) break
        }
        const v = await this.read(Reg.Version)
        this.version = v === 0x91 || v === 0x92 || v === 0x88 ? v : 0
        if (!this.version) return false
        for (let i = 0; i < INIT_SEQUENCE.length; i += 2) await this.write(INIT_SEQUENCE[i], INIT_SEQUENCE[i + 1])
        await this.antenna(true)
        return true
    }

    /** Antenna drivers TX1/TX2 on or off (ChangeNFCPower enable). */
    async antenna(on: boolean) {
        await this.setBits(Reg.TxControl, 0x03, on)
    }

    /** Receiver gain 0..7 (RFCfgReg RxGain: 18 dB .. 48 dB), from ChangeNFCPower 0..255. */
    async setGain(gain: number) {
        await this.write(Reg.RfCfg, (gain & 7) << 4)
    }

    /**
     * Send a frame and receive the answer (Transceive command).
     * @param txLastBits bits of the last byte to send (0 = 8)
     * @param rxAlign bit position where the first received bit is stored (anticollision)
     */
    async transceive(data: Buffer, txLastBits: number, rxAlign: number): Promise<Buffer> {
        await this.write(Reg.Command, Cmd.Idle)
        await this.write(Reg.ComIrq, 0x7f)
        await this.write(Reg.FifoLevel, 0x80)
        const tx = Buffer.alloc(data.length + 1)
        tx[0] = (Reg.FifoData << 1) & 0x7e
        tx.blitAt(1, data, 0, data.length)
        await this.spi.transfer(tx)
        await this.write(Reg.BitFraming, (rxAlign << 4) | txLastBits)
        await this.write(Reg.Command, Cmd.Transceive)
        await this.write(Reg.BitFraming, 0x80 | (rxAlign << 4) | txLastBits)
        let irq = 0
        // the chip's own 25 ms timer ends every exchange (TimerIRq); bound the polling anyway
        for (let i = 0; i < 50; i++) {
            irq = await this.read(Reg.ComIrq)
            if (irq & 0x31) break
        }
        await this.write(Reg.BitFraming, (rxAlign << 4) | txLastBits)
        this.collPos = 0
        if (!(irq & 0x30)) return undefined
        const err = await this.read(Reg.Error)
        if (err & 0x13) throw new RangeError("rfid frame error")
        if (err & 0x08) {
            const coll = await this.read(Reg.Coll)
            // CollPosNotValid: collision outside the frame
            if (coll & 0x20) throw new RangeError("rfid collision out of range")
            this.collPos = coll & 0x1f || 32
        }
        const n = await this.read(Reg.FifoLevel)
        const rx = Buffer.alloc(n + 1)
        rx.fillAt(0, n + 1, 0x80 | ((Reg.FifoData << 1) & 0x7e))
        rx[n] = 0
        const got = await this.spi.transfer(rx)
        this.lastBits = (await this.read(Reg.Control)) & 7
        return got.slice(1, n + 1)
    }

    /** REQA (7-bit short frame): true when an idle card answered with its ATQA. */
    async request() {
        const r = await this.transceive(Buffer.from([0x26]), 7, 0)
        return !!r && r.length === 2 && this.lastBits === 0
    }

    /**
     * Anticollision and select at every cascade level (ISO 14443-3 §6.5.3).
     * @returns the UID (4, 7 or 10 bytes), undefined when the card left or did not answer
     */
    async select(): Promise<Buffer> {
        const uid: number[] = []
        for (let level = 0; level < 3; level++) {
            const sel = 0x93 + level * 2
            // known bits of this level's 5-byte field (4 UID bytes + BCC)
            const field = Buffer.alloc(5)
            let known = 0
            for (let round = 0; round < 32; round++) {
                const bytes = known >> 3
                const bits = known & 7
                const tx = Buffer.alloc(2 + bytes + (bits ? 1 : 0))
                tx[0] = sel
                tx[1] = 0x20 + (bytes << 4) + bits
                tx.blitAt(2, field, 0, tx.length - 2)
                const r = await this.transceive(tx, bits, bits)
                if (!r || !r.length) return undefined
                // merge the answer behind the known bits
                field[bytes] = (field[bytes] & ((1 << bits) - 1)) | (r[0] & ~((1 << bits) - 1) & 0xff)
                for (let i = 1; i < r.length && bytes + i < 5; i++) field[bytes + i] = r[i]
                if (!this.collPos) {
                    known = 40
                    break
                }
                // collision at bit collPos of the answer: take the card whose bit is 1
                const pos = known + this.collPos - (bits ? bits : 0)
                known = pos
                field[(pos - 1) >> 3] |= 1 << ((pos - 1) & 7)
            }
            if (known < 40) return undefined
            if ((field[0] ^ field[1] ^ field[2] ^ field[3]) !== field[4]) return undefined
            const frame = Buffer.alloc(9)
            frame[0] = sel
            frame[1] = 0x70
            frame.blitAt(2, field, 0, 5)
            appendCrcA(frame, 7)
            const sak = await this.transceive(frame, 0, 0)
            if (!sak || sak.length !== 3 || !crcAValid(sak)) return undefined
            // cascade tag 0x88 then three UID bytes, else four
            for (let i = field[0] === 0x88 ? 1 : 0; i < 4; i++) uid.push(field[i])
            if (!(sak[0] & 0x04)) return Buffer.from(uid)
        }
        return undefined
    }

    /** HLTA: the card stays quiet until it leaves the field (one swipe, one read). */
    async halt() {
        const frame = Buffer.alloc(4)
        frame[0] = 0x50
        appendCrcA(frame, 2)
        await this.transceive(frame, 0, 0)
    }

    /** Look for a new card: its UID, or undefined. */
    async poll(): Promise<Buffer> {
        if (!(await this.request())) return undefined
        const uid = await this.select()
        if (uid) await this.halt()
        return uid
    }
}

/**
 * The reader as the firmware uses it: initialise on first use and again after any
 * failure (a broken SPI link or a chip that lost power), never throw.
 */
export class CardReader {
    private ready = false
    /** Set by ChangeNFCPower: receiver gain 0..7 and antenna on/off. */
    gain = 4
    enabled = true
    private applied = ""

    constructor(public chip: Mfrc522) {}

    async poll(): Promise<Buffer> {
        try {
            if (!this.ready) {
                this.ready = await this.chip.init()
                this.applied = ""
            }
            if (!this.ready) return undefined
            const want = this.gain + "," + this.enabled
            if (want !== this.applied) {
                await this.chip.setGain(this.gain)
                await this.chip.antenna(this.enabled)
                this.applied = want
            }
            return this.enabled ? await this.chip.poll() : undefined
        } catch {
            this.ready = false
            return undefined
        }
    }
}

/** ISO 14443-3 CRC_A (preset 0x6363, reflected polynomial 0x8408) of buf[0..len). */
export function crcA(buf: Buffer, len: number) {
    let crc = 0x6363
    for (let i = 0; i < len; i++) {
        let b = (buf[i] ^ crc) & 0xff
        b = (b ^ (b << 4)) & 0xff
        crc = (crc >> 8) ^ (b << 8) ^ (b << 3) ^ (b >> 4)
    }
    return crc & 0xffff
}

function appendCrcA(buf: Buffer, len: number) {
    const crc = crcA(buf, len)
    buf[len] = crc & 0xff
    buf[len + 1] = crc >> 8
}

function crcAValid(buf: Buffer) {
    const n = buf.length - 2
    const crc = crcA(buf, n)
    return buf[n] === (crc & 0xff) && buf[n + 1] === crc >> 8
}

/** UID as an OCPP idTag: uppercase hex, two digits per byte (≤ 20 characters). */
export function uidToIdTag(uid: Buffer) {
    return uid.toString("hex").toUpperCase().slice(0, 20)
}
