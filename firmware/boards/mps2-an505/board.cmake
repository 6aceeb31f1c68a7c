# Emulated board: QEMU 7.2 mps2-an505 (Cortex-M33, Secure state). UART0 is the
# secure alias 0x50200000. Facts come from device_profiles/mps2-an505.yaml.
set(HN_BOARD_SOURCES
    ${HN_BOARDS_DIR}/common/startup.c
    ${HN_BOARDS_DIR}/common/no_malloc.c
    ${HN_BOARDS_DIR}/common/calib.c
    ${HN_BOARDS_DIR}/common/semihost.c
    ${HN_BOARDS_DIR}/common/counter_systick.c
    ${HN_BOARDS_DIR}/common/mps2.c)
set(HN_BOARD_DEFS HN_UART_BASE=0x50200000u HN_NUM_IRQS=96)
set(HN_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/linker.ld)
