# sp_test(NAME n SOURCES a.c ... [LIBS l ...] [LABELS unit|integration|fuzz-smoke|browser]
#         [ARGS ...] [TIMEOUT s])
# One way to register every test: builds an executable, adds it to CTest with its labels.
function(sp_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS;ARGS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME} ${T_ARGS})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}" TIMEOUT ${T_TIMEOUT}
    ENVIRONMENT "SP_SOURCE_DIR=${CMAKE_SOURCE_DIR};SP_BINARY_DIR=${CMAKE_BINARY_DIR};SIMPUL=$<TARGET_FILE:simpul>")
endfunction()
