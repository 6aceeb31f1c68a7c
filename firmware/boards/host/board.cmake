# Host-native board: the app built with the host compiler (no toolchain file).
set(HN_BOARD_SOURCES ${CMAKE_CURRENT_LIST_DIR}/board.c)
set(HN_BOARD_DEFS "")
set(HN_LINKER_SCRIPT "")
