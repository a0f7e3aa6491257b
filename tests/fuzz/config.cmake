sp_fuzz(NAME fuzz_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_config.c LIBS sp_app)
