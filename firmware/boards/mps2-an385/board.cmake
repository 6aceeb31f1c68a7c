# Emulated board under QEMU 7.2 (machine of the same name). Facts (core,
# clock, memory sizes, model slot, arena) come from the generated HN_BOARD_CONFIG.
set(HN_BOARD_SOURCES
    ${HN_BOARDS_DIR}/common/startup.c
    ${HN_BOARDS_DIR}/common/no_malloc.c
    ${HN_BOARDS_DIR}/common/calib.c
    ${HN_BOARDS_DIR}/common/semihost.c
    ${HN_BOARDS_DIR}/common/counter_systick.c
    ${HN_BOARDS_DIR}/common/mps2.c)
set(HN_BOARD_DEFS HN_UART_BASE=0x40004000u HN_NUM_IRQS=32)
set(HN_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/linker.ld)
