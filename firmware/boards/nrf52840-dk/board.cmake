# Real board nrf52840-dk: register-level port (no vendor SDK), DWT cycle timing,
# interrupt-fed UART ring. Compile-tested in CI; facts from device_profiles/nrf52840-dk.yaml.
set(HN_BOARD_SOURCES
    ${HN_BOARDS_DIR}/common/startup.c
    ${HN_BOARDS_DIR}/common/no_malloc.c
    ${HN_BOARDS_DIR}/common/calib.c
    ${HN_BOARDS_DIR}/common/counter_dwt.c
    ${HN_BOARDS_DIR}/common/real_board.c
    
    ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(HN_BOARD_DEFS HN_UART_IRQN=2 HN_NUM_IRQS=48 HN_MAX_RUNS=256u)
set(HN_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/linker.ld)
