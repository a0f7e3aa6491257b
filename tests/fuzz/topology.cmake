# Fuzz target for the topology loader; seed corpus in fuzz/corpus/topology/.
sp_fuzz(NAME fuzz_topology SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/fuzz_topology.c LIBS sp_topology)
