# Emulated board under QEMU 7.2 (machine of the same name): common/mps2.cmake.
include(${HN_BOARDS_DIR}/common/mps2.cmake)
set(HN_BOARD_DEFS HN_UART_BASE=0x40004000u HN_NUM_IRQS=32)
