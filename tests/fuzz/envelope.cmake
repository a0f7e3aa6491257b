sp_fuzz(NAME fuzz_envelope SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_envelope.c LIBS sp_broker)
