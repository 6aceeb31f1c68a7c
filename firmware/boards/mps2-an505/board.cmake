# Emulated board: QEMU 7.2 mps2-an505 (Cortex-M33, Secure state): common/mps2.cmake;
# UART0 is the secure alias 0x50200000.
include(${HN_BOARDS_DIR}/common/mps2.cmake)
set(HN_BOARD_DEFS HN_UART_BASE=0x50200000u HN_NUM_IRQS=96)
