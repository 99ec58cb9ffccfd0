// A register-level model of the MFRC522 (NXP datasheet rev. 3.9) with ISO 14443-3 type A
// cards in its field, behind the same SpiLink the driver uses on the ESP32.
//
// SPI: the first byte is the address ((reg << 1) & 0x7E, bit 7 = read); on a read every
// further MOSI byte is the next address and MISO returns the value of the previous one;
// on a write every further byte goes to the same register (the FIFO takes them in turn).
// Modelled: CommandReg (Idle, Transceive, SoftReset), ComIrqReg (RxIRq, IdleIRq,
// TimerIRq), ErrorReg (CollErr), FIFO (64 bytes) and FIFOLevelReg (flush), ControlReg
// RxLastBits, BitFramingReg (StartSend, RxAlign, TxLastBits), CollReg (CollPos),
// TxControlReg (antenna), RFCfgReg, VersionReg. Cards: REQA/WUPA, anticollision with
// bit-level collisions between several cards, SELECT with CRC_A check, SAK, HLTA,
// cascade levels 1-3; a card that is not selected drops back to IDLE (ISO 14443-3 §6.2). CollPos counts bit positions in the received data as stored in
// the FIFO, starting at RxAlign (the driver's reading; no hardware was at hand).
import { SpiLink, crcA } from "../../src/hal/mfrc522"

const CMD = 0x01
const COM_IRQ = 0x04
const ERROR = 0x06
const FIFO_DATA = 0x09
const FIFO_LEVEL = 0x0a
const CONTROL = 0x0c
const BIT_FRAMING = 0x0d
const COLL = 0x0e
const TX_CONTROL = 0x14
const VERSION = 0x37

const enum CardState {
    Idle = 0,
    Ready = 1,
    Active = 2,
    Halt = 3,
}

export class ModelCard {
    state = CardState.Idle
    /** cascade level the card is at (0..2) */
    level = 0
    constructor(public uid: Buffer) {}

    /** The 5-byte field (CLn bytes + BCC) of a cascade level. */
    field(level: number) {
        const f = Buffer.alloc(5)
        const n = this.uid.length
        const last = n === 4 ? 0 : n === 7 ? 1 : 2
        if (level < last) {
            f[0] = 0x88
            f.blitAt(1, this.uid, level * 3, 3)
        } else f.blitAt(0, this.uid, level * 3, 4)
        f[4] = f[0] ^ f[1] ^ f[2] ^ f[3]
        return f
    }

    atqa() {
        const n = this.uid.length
        return Buffer.from([n === 4 ? 0x04 : n === 7 ? 0x44 : 0x84, 0x00])
    }
}

function bit(buf: Buffer, i: number) {
    return (buf[i >> 3] >> (i & 7)) & 1
}

export class Mfrc522Model implements SpiLink {
    regs = Buffer.alloc(64)
    fifo = Buffer.alloc(64)
    fifoLen = 0
    cards: ModelCard[] = []
    /** MISO stuck high: what a disconnected or dead chip looks like. */
    broken = false
    transfers = 0
    /** last frame the reader sent, as hex (for tests) */
    lastTx = ""

    constructor(public version = 0x92) {
        this.reset()
    }

    reset() {
        this.regs = Buffer.alloc(64)
        this.regs[VERSION] = this.version
        this.regs[0x26] = 0x48 // RFCfgReg reset value: RxGain 33 dB
        this.regs[TX_CONTROL] = 0x80
        this.fifoLen = 0
    }

    /** Put a card in the field (it starts idle). */
    addCard(uidHex: string) {
        const c = new ModelCard(Buffer.from(uidHex, "hex"))
        this.cards.push(c)
        return c
    }

    removeCards() {
        this.cards = []
    }

    async transfer(tx: Buffer): Promise<Buffer> {
        this.transfers++
        const rx = Buffer.alloc(tx.length)
        if (this.broken) {
            rx.fillAt(0, rx.length, 0xff)
            return rx
        }
        const addr = tx[0]
        const reg = (addr >> 1) & 0x3f
        if (addr & 0x80) {
            for (let i = 1; i < tx.length; i++) rx[i] = this.readReg((tx[i - 1] >> 1) & 0x3f)
        } else for (let i = 1; i < tx.length; i++) this.writeReg(reg, tx[i])
        return rx
    }

    private readReg(reg: number) {
        if (reg === FIFO_DATA) {
            if (!this.fifoLen) return 0
            const v = this.fifo[0]
            this.fifo.blitAt(0, this.fifo, 1, this.fifoLen - 1)
            this.fifoLen--
            return v
        }
        if (reg === FIFO_LEVEL) return this.fifoLen
        return this.regs[reg]
    }

    private writeReg(reg: number, v: number) {
        if (reg === FIFO_DATA) {
            if (this.fifoLen < 64) this.fifo[this.fifoLen++] = v
            return
        }
        if (reg === FIFO_LEVEL) {
            if (v & 0x80) this.fifoLen = 0
            return
        }
        if (reg === COM_IRQ) {
            // bit 7 (Set1) decides whether the marked bits are set or cleared
            if (v & 0x80) this.regs[reg] |= v & 0x7f
            else this.regs[reg] &= ~v
            return
        }
        if (reg === CMD) {
            if ((v & 0x0f) === 0x0f) {
                this.reset()
                return
            }
            this.regs[CMD] = v & 0x1f
            if ((v & 0x0f) === 0) this.regs[COM_IRQ] |= 0x10
            return
        }
        this.regs[reg] = v
        if (reg === BIT_FRAMING && v & 0x80 && (this.regs[CMD] & 0x0f) === 0x0c) this.transceive()
    }

    private antennaOn() {
        return (this.regs[TX_CONTROL] & 0x03) === 0x03
    }

    private transceive() {
        const framing = this.regs[BIT_FRAMING]
        const txLastBits = framing & 7
        const rxAlign = (framing >> 4) & 7
        const frame = this.fifo.slice(0, this.fifoLen)
        this.fifoLen = 0
        this.lastTx = frame.toString("hex")
        this.regs[ERROR] = 0
        this.regs[COLL] = 0x80
        this.regs[CONTROL] = 0
        let answers: Buffer[] = []
        let answerBits = 0
        if (this.antennaOn()) {
            const cmd = frame[0]
            if ((cmd === 0x26 || cmd === 0x52) && frame.length === 1 && txLastBits === 7) {
                for (const c of this.cards) {
                    if (c.state === CardState.Idle || (cmd === 0x52 && c.state === CardState.Halt)) {
                        c.state = CardState.Ready
                        c.level = 0
                        answers.push(c.atqa())
                    } else if (c.state !== CardState.Halt) c.state = CardState.Idle
                }
                answerBits = 16
            } else if (cmd === 0x93 || cmd === 0x95 || cmd === 0x97) {
                const level = (cmd - 0x93) >> 1
                const nvb = frame[1]
                if (nvb === 0x70 && frame.length === 9 && txLastBits === 0) {
                    const crc = crcA(frame, 7)
                    if (frame[7] === (crc & 0xff) && frame[8] === crc >> 8) {
                        for (const c of this.cards) {
                            if (c.state !== CardState.Ready || c.level !== level) continue
                            // a card not selected leaves the anticollision loop (ISO 14443-3 §6.2)
                            if (c.field(level).toString("hex") !== frame.slice(2, 7).toString("hex")) {
                                c.state = CardState.Idle
                                continue
                            }
                            const done = (c.uid.length === 4 && level === 0) || (c.uid.length === 7 && level === 1) || level === 2
                            if (done) c.state = CardState.Active
                            else c.level = level + 1
                            const sak = Buffer.alloc(3)
                            sak[0] = done ? 0x08 : 0x04
                            const sc = crcA(sak, 1)
                            sak[1] = sc & 0xff
                            sak[2] = sc >> 8
                            answers.push(sak)
                        }
                        answerBits = 24
                    }
                } else {
                    // anticollision: known bits of the 40-bit field, then each matching card
                    // answers with the rest of its field
                    const known = ((nvb >> 4) - 2) * 8 + (nvb & 7)
                    const bytes = known >> 3
                    const sent = frame.slice(2)
                    for (const c of this.cards) {
                        if (c.state !== CardState.Ready || c.level !== level) continue
                        const f = c.field(level)
                        let match = true
                        for (let i = 0; i < known; i++) if (bit(f, i) !== bit(sent, i)) match = false
                        if (!match) continue
                        const a = f.slice(bytes)
                        a[0] &= (0xff << rxAlign) & 0xff
                        answers.push(a)
                    }
                    answerBits = (5 - bytes) * 8
                }
            } else if (cmd === 0x50 && frame.length === 4) {
                const crc = crcA(frame, 2)
                if (frame[2] === (crc & 0xff) && frame[3] === crc >> 8)
                    for (const c of this.cards)
                        if (c.state === CardState.Active) c.state = CardState.Halt
                        else if (c.state === CardState.Ready) c.state = CardState.Idle
            }
        }
        if (!answers.length) {
            // nobody answered: the 25 ms timer runs out
            this.regs[COM_IRQ] |= 0x01
            return
        }
        // several cards answering at once: the first bit where they disagree is a
        // collision (CollErr, CollPos); that bit reads as 1, the rest as the first card's
        const out = answers[0].slice(0)
        let coll = -1
        for (let i = rxAlign; i < answerBits && coll < 0; i++)
            for (let k = 1; k < answers.length; k++) if (bit(answers[k], i) !== bit(out, i)) coll = i
        if (coll >= 0) {
            this.regs[ERROR] |= 0x08
            this.regs[COLL] = coll + 1 > 32 ? 0x20 : (coll + 1) & 0x1f
            out[coll >> 3] |= 1 << (coll & 7)
        }
        for (let i = 0; i < out.length; i++) this.fifo[this.fifoLen++] = out[i]
        this.regs[CONTROL] = answerBits & 7
        this.regs[COM_IRQ] |= 0x30
    }
}
