# Real board stm32f746g-disco: register-level port (no vendor SDK), DWT cycle timing,
# interrupt-fed UART ring. Compile-tested in CI; facts from device_profiles/stm32f746g-disco.yaml.
set(HN_BOARD_SOURCES
    ${HN_BOARDS_DIR}/common/startup.c
    ${HN_BOARDS_DIR}/common/no_malloc.c
    ${HN_BOARDS_DIR}/common/calib.c
    ${HN_BOARDS_DIR}/common/counter_dwt.c
    ${HN_BOARDS_DIR}/common/real_board.c
    ${HN_BOARDS_DIR}/common/stm32_usart.c
    ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(HN_BOARD_DEFS HN_USART_BASE=0x40011000u HN_USART_BRR_MUL=1u HN_UART_IRQN=37 HN_NUM_IRQS=98 HN_MAX_RUNS=256u)
set(HN_LINKER_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/linker.ld)
