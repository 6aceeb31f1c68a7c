# Post-build check: the firmware must not link malloc/free (static memory only).
execute_process(COMMAND ${NM} ${ELF} OUTPUT_VARIABLE _syms RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "nm failed on ${ELF}")
endif()
if(_syms MATCHES "[ \t](_malloc_r|malloc|_free_r|free|_sbrk|_sbrk_r)\n")
  message(FATAL_ERROR "${ELF} links malloc/free/sbrk: the firmware must not allocate")
endif()
