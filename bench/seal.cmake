add_executable(bench_seal ${CMAKE_CURRENT_SOURCE_DIR}/bench_seal.c)
target_link_libraries(bench_seal PRIVATE sp_node)
sp_bench_smoke(bench_seal)
