# Post-build check: the firmware must not link a heap (static memory only).
# _malloc_r/_free_r/_realloc_r are our trapping stubs (common/no_malloc.c);
# a real allocator would bring malloc and _sbrk with it.
execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE _syms RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${ELF}")
endif()
if(_syms MATCHES "[ \t](malloc|calloc|realloc|_sbrk|_sbrk_r|_malloc_usable_size_r)\n")
  message(FATAL_ERROR "${ELF} links a heap (${CMAKE_MATCH_1}): the firmware must not allocate")
endif()
