// Firmware entry for the simulator board (tools/sim serves its hardware over Jacdac).
import { SimBoard } from "./hal/simboard"
import { startWallbox } from "./app"

async function main() {
    const board = new SimBoard()
    await board.bind()
    await startWallbox(board)
}
main.start()
