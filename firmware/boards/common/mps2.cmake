# Shared by the emulated MPS2 boards (QEMU 7.2 machines of the same names): the
# sources are the same; each board.cmake adds its UART base and IRQ count. Facts
# (core, clock, memory sizes, model slot, arena) come from the generated HN_BOARD_CONFIG.
set(HN_BOARD_SOURCES
    ${HN_BOARDS_DIR}/common/startup.c
    ${HN_BOARDS_DIR}/common/no_malloc.c
    ${HN_BOARDS_DIR}/common/calib.c
    ${HN_BOARDS_DIR}/common/semihost.c
    ${HN_BOARDS_DIR}/common/counter_systick.c
    ${HN_BOARDS_DIR}/common/mps2.c)
set(HN_LINKER_SCRIPT ${HN_BOARDS_DIR}/${HN_BOARD}/linker.ld)
